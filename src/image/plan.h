/* How the images of a stack relate: parents, roots, depths, package managers, build order. */
#ifndef PIDVISOR_IMAGE_PLAN_H
#define PIDVISOR_IMAGE_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"
#include "stack.h"

/* Fills parent, root, depth and pm of every image; reports cycles, unknown or unpinned parents,
 * a program defined in two layers of a chain, groups naming unknown programs, missing context
 * files and package managers it cannot tell. Returns how many errors it added. */
int plan_resolve(struct stack *st, struct diag *d);

/* Indexes of the images named (every image when nnames is 0) and of the stack images they build
 * on, parents first, otherwise in file order. Returns 0, or -1 with a message in d when a name is
 * not an image of the stack. *order is malloc'd. */
int plan_order(const struct stack *st, char *const *names, size_t nnames, size_t **order, size_t *n,
	       struct diag *d);

/* The real path of files entry k's source, or NULL (reported in d): it must resolve, symbolic
 * links followed, inside the stack file's directory, and be a regular file or a directory, so a
 * stack file cannot put /etc/shadow or an endless /dev/zero into a build context. Malloc'd. */
char *plan_context_source(const struct stack *st, const struct image *im, size_t k, struct diag *d);

/* Whether the chains are within STACK_MAX_CHAIN_ENTRIES (plan_resolve reports when not). */
bool plan_chains_bounded(const struct stack *st);

const char *pm_name(enum pkg_manager pm);
/* The image key as a file name: '/' and ':' become '-'. Malloc'd. */
char *image_flat_name(const char *name);

#endif
