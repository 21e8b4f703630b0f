/* The admin API (/api/v1): its route table. */
#ifndef TS_ADMIN_API_H
#define TS_ADMIN_API_H

#include "http/http.h"

const struct ts_http_route *ts_admin_api_routes(int *n);

#endif
