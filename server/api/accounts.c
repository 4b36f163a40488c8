/* Small helpers shared by the account files: see accounts.h. */
#include "api/accounts.h"

#include "db/db.h"

int yq_tx_end(int rc) {
    yq_db_t *db = yq_db_main();
    if (rc < 0) {
        yq_db_rollback(db);
        return rc;
    }
    if (yq_db_commit(db)) {
        yq_db_rollback(db);
        return YQ_DB_ERROR;
    }
    return rc;
}
