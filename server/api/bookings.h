/*
 * Background work of the booking module, started by `yiqi serve`: the
 * no-show sweep (DOMAIN.md "Bookings"). Every 30 s, and once right after
 * start-up so that a restart never forgets a missed check-in, confirmed
 * bookings not checked in 15 minutes after their start become no_show (which
 * releases the slot), and a user with three no-shows in 90 days is barred
 * from booking for 30 days (users.barred_until).
 */
#ifndef YQ_API_BOOKINGS_H
#define YQ_API_BOOKINGS_H

#include <stdint.h>
#include <uv.h>

/* Starts the sweep timer on loop and registers its stop with
 * yq_server_on_stop(). Returns 0 or a negative libuv code. */
int yq_bookings_start(uv_loop_t *loop);

#endif
