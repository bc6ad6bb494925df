/* Prometheus metrics in the text exposition format (version 0.0.4), for GET /metrics. */
#ifndef PIDVISOR_METRICS_H
#define PIDVISOR_METRICS_H

#include "buf.h"

struct supervisor;

void metrics_write(struct supervisor *sv, struct buf *out);

#endif
