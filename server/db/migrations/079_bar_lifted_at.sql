-- When an admin last lifted a user's no-show bar (0: never). The no-shows
-- that count towards a new bar are those of the 90 days up to now that
-- started after it (domain/booking_rules.h, yq_booking_no_show_window_start):
-- lifting a bar forgives the no-shows that led to it, where before the very
-- next no-show, with the three old ones still inside the window, barred the
-- user again at once.
ALTER TABLE users ADD COLUMN bar_lifted_at INTEGER NOT NULL DEFAULT 0;
