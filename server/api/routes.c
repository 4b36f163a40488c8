/* Registration of every API file's route table (see routes.h). */
#include "api/routes.h"

#define ADD(name) yq_router_add(yq_api_##name##_routes, yq_api_##name##_routes_count)

void yq_api_register(void) {
    ADD(health);
    ADD(session);
    ADD(zones), ADD(orgs), ADD(groups), ADD(users), ADD(passwords), ADD(tokens), ADD(audit); /* accounts (issue 3) */
    ADD(instrument_csv), ADD(instruments); /* catalogue (issue 4): literal paths before /instruments/{id} */
    ADD(bookings), ADD(availability), ADD(blocks), ADD(qualifications), ADD(notifications), ADD(calendar_feed);
    ADD(usage), ADD(vouchers); /* usage and vouchers (issue 6) */
    ADD(settlements);          /* settlement (issue 7) */
    /* statistics (issue 8) */
    ADD(stats);
}
