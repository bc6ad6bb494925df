/* lint: the mistakes hand-written image stacks tend to have, each with FILE:LINE. */
#ifndef PIDVISOR_IMAGE_LINT_H
#define PIDVISOR_IMAGE_LINT_H

#include "diag.h"
#include "stack.h"

/* Findings on a resolved stack (after plan_resolve), added to d as errors. */
void lint_stack(const struct stack *st, struct diag *d);
/* The largest Dockerfile lint reads. */
#define LINT_MAX_DOCKERFILE (1024 * 1024)

/* Findings on a hand-written Dockerfile. Returns -1 when it cannot be read (said in d), else 0. */
int lint_dockerfile(const char *path, struct diag *d);

#endif
