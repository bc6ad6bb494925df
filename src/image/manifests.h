/* compose and k8s: a Compose file for `docker stack deploy`, Kubernetes manifests. */
#ifndef PIDVISOR_IMAGE_MANIFESTS_H
#define PIDVISOR_IMAGE_MANIFESTS_H

#include <stddef.h>

#include "diag.h"
#include "stack.h"

/* Readiness probes run `pidvisor check --ready` (programs waiting for their depends_on are not
 * ready), liveness probes `pidvisor check` (tests/image/test_deploy.py fails when this and
 * pidvisor disagree). */
#define CHECK_HAS_READY 1

/* The Compose file (version 3.8) of the images of order. Malloc'd, or NULL with d. */
char *compose_file(const struct stack *st, const size_t *order, size_t n, const char *tag_prefix,
		   struct diag *d);
/* The Deployment (and Service, when it has ports) of image i. Malloc'd, or NULL with d. */
char *k8s_manifest(const struct stack *st, size_t i, const char *tag_prefix, struct diag *d);

#endif
