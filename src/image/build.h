/* build: docker build of generated contexts, parents first, with progress and timings. */
#ifndef PIDVISOR_IMAGE_BUILD_H
#define PIDVISOR_IMAGE_BUILD_H

#include <stdbool.h>
#include <stddef.h>

#include "stack.h"

struct build_opts {
	const char *docker; /* the docker client to run */
	const char *network;
	const char *tag_prefix;
	bool no_cache;
	bool push;
	const char *contexts; /* where generate_contexts() wrote them */
};

/* Builds (and pushes) the images of order. Returns 0, or the exit status of the first docker
 * command that failed (127 when docker cannot be run). */
int build_images(const struct stack *st, const size_t *order, size_t n, const struct build_opts *o);
/* The docker client: path, else $PIDVISOR_DOCKER, else "docker" (looked up in PATH). */
const char *build_docker_path(const char *option);

#endif
