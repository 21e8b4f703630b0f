/* Liveness, readiness and metrics endpoints. */
#ifndef TS_APP_HEALTH_H
#define TS_APP_HEALTH_H

#include "http/http.h"

/* /healthz, /readyz, /metrics: routes only, no state. */
struct ts_http_module ts_app_health_module(void);

#endif
