/* A build context per image: Dockerfile, the layer's conf.d file, its files, and for a root
 * /etc/supervisor/supervisord.conf. Roots copy pidvisor from PIDVISOR_IMAGE, whose context
 * (the static pidvisor and its other names, FROM scratch, as `make image` builds it) is
 * written too. */
#ifndef PIDVISOR_IMAGE_GENERATE_H
#define PIDVISOR_IMAGE_GENERATE_H

#include <stddef.h>

#include "diag.h"
#include "stack.h"

/* The image roots copy /usr/bin/pidvisor from, and its context's directory in OUTDIR. */
#define PIDVISOR_IMAGE	 "pidvisor:" PIDVISOR_VERSION
#define PIDVISOR_CONTEXT ".pidvisor"

struct generate_opts {
	const char *outdir;
	const char *pidvisor;	/* the static binary, for PIDVISOR_IMAGE */
	const char *tag_prefix; /* "" for none */
};

/* The Dockerfile of image i (a resolved stack). Malloc'd. */
char *generate_dockerfile(const struct stack *st, size_t i, const char *tag_prefix);
/* The layer's conf.d file and its name in the image (NN-NAME.conf). Malloc'd. */
char *generate_layer_conf(const struct stack *st, size_t i);
char *layer_conf_name(const struct stack *st, size_t i);
/* The root's /etc/supervisor/supervisord.conf. Malloc'd. */
char *generate_main_conf(const struct stack *st, size_t i);

/* Writes OUTDIR/NAME/ for each image of order (NAME is image_flat_name()), and
 * OUTDIR/PIDVISOR_CONTEXT/ when order holds a root. Returns 0, or -1 with what failed in d. */
int generate_contexts(const struct stack *st, const size_t *order, size_t n,
		      const struct generate_opts *o, struct diag *d);
/* The directory generate_contexts() writes image i to. Malloc'd. */
char *context_dir(const struct stack *st, size_t i, const char *outdir);

#endif
