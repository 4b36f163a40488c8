/* Registration of every API file's route table (see routes.h). */
#include "api/routes.h"

#define ADD(name) yq_router_add(yq_api_##name##_routes, yq_api_##name##_routes_count)

void yq_api_register(void)
{
    ADD(health);
    ADD(session);
}
