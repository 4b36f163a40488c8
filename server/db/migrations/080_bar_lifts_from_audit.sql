-- Bars lifted before migration 079 counted as lifted too: the lift of a bar
-- has always been audited as user_unbar (only when the user was barred), so
-- a user whose bar an admin lifted with an older version is not barred again
-- by the next no-show, with the forgiven ones still inside 90 days.
UPDATE users SET bar_lifted_at = max(bar_lifted_at, coalesce(
    (SELECT max(a.at) FROM audit a
     WHERE a.action = 'user_unbar' AND a.object_type = 'user' AND a.object_id = users.id), 0));
