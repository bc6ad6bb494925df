/* What an orchestrator must know about an image of a stack, computed from the stack file:
 * how long pidvisor may take to stop, when its probes may start failing, which ports and
 * user. Pure: compose and k8s (manifests.c) write it out. */
#ifndef PIDVISOR_IMAGE_DEPLOY_H
#define PIDVISOR_IMAGE_DEPLOY_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"
#include "stack.h"

/* Seconds added to pidvisor's own worst-case stop: the leftover-process sweep, the exit. */
#define DEPLOY_MARGIN 5
/* supervisord's defaults, which pidvisor keeps. */
#define DEFAULT_STOPWAITSECS 10
#define DEFAULT_STARTSECS    1

/* The runtime user of a hardened image that names none (docs/stack-file.md). */
#define HARDENED_USER "10001:10001"
/* Kubernetes' probe period at least, and the resources a container asks for by default. */
#define K8S_MIN_PERIOD	    10
#define DEFAULT_CPU_REQUEST "100m"
#define DEFAULT_MEM_REQUEST "128Mi"
#define DEFAULT_MEM_LIMIT   "512Mi"
#define DEFAULT_VOLUME_SIZE "1Gi"

/* Whether image i is hardened: its own `hardened`, else the nearest ancestor's, else false. */
bool image_hardened(const struct stack *st, size_t i);

/* A root's HEALTHCHECK timings: the stack's, else these defaults (the Dockerfile's too). */
struct health_timing {
	const char *interval, *timeout, *start_period, *retries;
};
struct health_timing health_timing(const struct healthcheck *h);

struct deploy_port {
	int port, published; /* published 0: no port chosen on the host */
	bool listed;	     /* in deploy.ports: the stack publishes it (a Service, ingress) */
	char proto[5];	     /* "tcp", "udp", "sctp" */
};

struct deploy_info {
	char *name;	   /* a DNS label: the image name without tag, '/' '.' '_' as '-' */
	long replicas;	   /* 1 unless deploy.replicas */
	long stop_secs;	   /* pidvisor's worst case: each group's longest stopwaitsecs, summed */
	long grace;	   /* stop_secs + DEPLOY_MARGIN */
	long startup_secs; /* the longer of the health start period and the longest startsecs */
	bool hardened;	   /* image_hardened() */
	const char *user;  /* the image's user, or the one it inherits, or HARDENED_USER when
			    * hardened; NULL: root */
	const struct healthcheck *health; /* the root's */
	long interval, timeout, retries;  /* its timings in whole seconds (at least 1) */
	struct deploy_port *ports; /* expose of the chain, then deploy.ports; one per port/proto */
	size_t nports;
};

/* Fills *out for image i of a resolved stack. Returns 0, or -1 with the reason in d (a
 * stopwaitsecs or startsecs that is not a plain number, two names that give one DNS name). */
int deploy_info(const struct stack *st, size_t i, struct deploy_info *out, struct diag *d);
void deploy_info_free(struct deploy_info *di);

/* Docker's duration ("1m30s", "500ms") in seconds. Returns 0, or -1 when it is not one. */
int duration_secs(const char *s, double *secs);
/* The DNS label for an image name: "app/shop-api:1.0" -> "app-shop-api" (lowercase, other
 * characters as '-', "i-" before a first character that is not a letter, at most 63 characters,
 * no '-' at the end). Malloc'd. */
char *deploy_name(const char *image);

#endif
