/* Grace periods, probe timings, ports and users of an image, from the stack file alone. */
#include "deploy.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "values.h"

bool image_hardened(const struct stack *st, size_t i)
{
	for (int j = (int)i; j >= 0; j = st->images[j].parent) {
		bool b = false;
		if (st->images[j].hardened.s)
			return parse_bool(st->images[j].hardened.s, &b) == 0 && b;
	}
	return false;
}

struct health_timing health_timing(const struct healthcheck *h)
{
	return (struct health_timing){
	    h->interval.s ? h->interval.s : "2s", h->timeout.s ? h->timeout.s : "3s",
	    h->start_period.s ? h->start_period.s : "10s", h->retries.s ? h->retries.s : "3"};
}

int duration_secs(const char *s, double *secs)
{
	static const struct {
		const char *unit;
		double secs;
	} units[] = {{"ns", 1e-9}, {"us", 1e-6}, {"ms", 1e-3}, {"s", 1}, {"m", 60}, {"h", 3600}};
	double total = 0;
	if (!*s)
		return -1;
	while (*s) {
		if (!isdigit((unsigned char)*s))
			return -1;
		size_t len = strspn(s, "0123456789.");
		char number[32];
		snprintf(number, sizeof(number), "%.*s", (int)len, s);
		s += len;
		size_t best = 0, k = 0;
		for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
			size_t n = strlen(units[i].unit);
			if (strncmp(s, units[i].unit, n) == 0 && n > best) {
				best = n;
				k = i;
			}
		}
		if (!best)
			return -1;
		total += strtod(number, NULL) * units[k].secs;
		s += best;
	}
	*secs = total;
	return 0;
}

/* Whole seconds, rounded up, at least 1: what Kubernetes' probe fields take. */
static long whole_secs(const char *duration)
{
	double x = 0;
	duration_secs(duration, &x); /* checked when the stack was loaded */
	long n = (long)x;
	if ((double)n < x - 1e-9)
		n++;
	return n < 1 ? 1 : n;
}

char *deploy_name(const char *image)
{
	const char *slash = strrchr(image, '/');
	const char *colon = strchr(slash ? slash : image, ':');
	char *s = xstrndup(image, colon ? (size_t)(colon - image) : strlen(image));
	for (char *p = s; *p; p++)
		*p = isalnum((unsigned char)*p) ? (char)tolower((unsigned char)*p) : '-';
	if (!isalpha((unsigned char)s[0])) { /* a Service name starts with a letter */
		char *prefixed = xasprintf("i-%s", s);
		free(s);
		s = prefixed;
	}
	size_t n = strlen(s) > 63 ? 63 : strlen(s);
	while (n > 0 && s[n - 1] == '-') /* and ends with a letter or a digit */
		n--;
	s[n] = '\0';
	return s;
}

static const char *program_key(const struct program *p, const char *key)
{
	for (size_t i = 0; i < p->keys.n; i++)
		if (strcmp(p->keys.v[i].k.s, key) == 0)
			return p->keys.v[i].v.s;
	return NULL;
}

/* A program's key as a number of seconds, or its default. -1 when not a plain number. */
static long program_secs(const struct stack *st, const struct image *im, const struct program *p,
			 const char *key, long def, struct diag *d)
{
	const char *v = program_key(p, key);
	long long x = def;
	if (v && parse_int(v, 0, 1LL << 31, &x) != 0) {
		/* once, though the program is in the chain of every image built on its own */
		struct diag one = {0};
		stack_error(&one, st, p->name.line, im->name.s, p->name.s,
			    "%s '%s': a grace period needs a plain number of seconds", key, v);
		bool seen = false;
		for (size_t k = 0; k < d->n && !seen; k++)
			seen = strcmp(d->items[k].text, one.items[0].text) == 0;
		if (!seen)
			diag_add(d, DIAG_ERROR, NULL, 0, NULL, NULL, "%s", one.items[0].text);
		diag_free(&one);
		return -1;
	}
	return (long)x;
}

/* The [group:x] of the chain that lists program name, or NULL. */
static const char *group_of(const struct stack *st, size_t i, const char *name)
{
	for (int j = (int)i; j >= 0; j = st->images[j].parent) {
		const struct image *im = &st->images[j];
		for (size_t g = 0; g < im->ngroups; g++)
			for (size_t k = 0; k < im->groups[g].programs.n; k++)
				if (strcmp(im->groups[g].programs.v[k].s, name) == 0)
					return im->groups[g].name.s;
	}
	return NULL;
}

/* pidvisor stops groups one after the other (reverse priority), each group's processes at
 * once, and waits up to stopwaitsecs for each before SIGKILL: the worst case is the sum, over
 * groups, of the group's longest stopwaitsecs, whatever the order. */
static int stop_and_start_secs(const struct stack *st, size_t i, long *stop, long *start,
			       struct diag *d)
{
	struct {
		const char *group;
		long secs;
	} *groups = NULL;
	size_t ng = 0;
	int rc = 0;
	*start = 0;
	for (int j = (int)i; j >= 0; j = st->images[j].parent) {
		const struct image *im = &st->images[j];
		for (size_t k = 0; k < im->nprograms; k++) {
			const struct program *p = &im->programs[k];
			long w = program_secs(st, im, p, "stopwaitsecs", DEFAULT_STOPWAITSECS, d);
			long s = program_secs(st, im, p, "startsecs", DEFAULT_STARTSECS, d);
			if (w < 0 || s < 0) {
				rc = -1;
				continue;
			}
			if (s > *start)
				*start = s;
			const char *g = group_of(st, i, p->name.s);
			g = g ? g : p->name.s;
			size_t n = 0;
			while (n < ng && strcmp(groups[n].group, g) != 0)
				n++;
			if (n == ng) {
				groups = array_grow(groups, ng, sizeof(*groups));
				groups[ng].group = g;
				groups[ng++].secs = 0;
			}
			if (w > groups[n].secs)
				groups[n].secs = w;
		}
	}
	*stop = 0;
	for (size_t n = 0; n < ng; n++)
		*stop += groups[n].secs;
	free(groups);
	return rc;
}

static void add_port(struct deploy_info *di, const char *spec, int published, bool listed)
{
	char *end;
	int port = (int)strtol(spec, &end, 10);
	const char *proto = *end == '/' ? end + 1 : "tcp";
	for (size_t k = 0; k < di->nports; k++)
		if (di->ports[k].port == port && strcmp(di->ports[k].proto, proto) == 0) {
			if (published)
				di->ports[k].published = published;
			di->ports[k].listed = di->ports[k].listed || listed;
			return;
		}
	di->ports = array_grow(di->ports, di->nports, sizeof(*di->ports));
	struct deploy_port *p = &di->ports[di->nports++];
	p->port = port;
	p->published = published;
	p->listed = listed;
	snprintf(p->proto, sizeof(p->proto), "%s", proto);
}

static void collect_ports(const struct stack *st, size_t i, struct deploy_info *di)
{
	int chain[64];
	size_t n = 0;
	for (int j = (int)i; j >= 0 && n < ARRAY_SIZE(chain); j = st->images[j].parent)
		chain[n++] = j;
	while (n-- > 0) /* the root's first */
		for (size_t k = 0; k < st->images[chain[n]].expose.n; k++)
			add_port(di, st->images[chain[n]].expose.v[k].s, 0, false);
	const struct slist *pub = &st->images[i].deploy.ports;
	for (size_t k = 0; k < pub->n; k++) {
		const char *colon = strchr(pub->v[k].s, ':');
		if (colon)
			add_port(di, colon + 1, atoi(pub->v[k].s), true);
		else
			add_port(di, pub->v[k].s, 0, true);
	}
}

int deploy_info(const struct stack *st, size_t i, struct deploy_info *out, struct diag *d)
{
	const struct image *im = &st->images[i];
	memset(out, 0, sizeof(*out));
	out->name = deploy_name(im->name.s);
	out->replicas = im->deploy.replicas.s ? atol(im->deploy.replicas.s) : 1;
	for (int j = (int)i; j >= 0 && !out->user; j = st->images[j].parent)
		out->user = st->images[j].user.s;
	out->hardened = image_hardened(st, i);
	if (out->hardened && !out->user)
		out->user = HARDENED_USER;
	out->health = &st->images[im->root >= 0 ? im->root : (int)i].health;
	struct health_timing t = health_timing(out->health);
	out->interval = whole_secs(t.interval);
	out->timeout = whole_secs(t.timeout);
	out->retries = atol(t.retries);
	long start;
	int rc = stop_and_start_secs(st, i, &out->stop_secs, &start, d);
	out->grace = out->stop_secs + DEPLOY_MARGIN;
	long period = whole_secs(t.start_period);
	out->startup_secs = start > period ? start : period;
	collect_ports(st, i, out);
	return rc;
}

void deploy_info_free(struct deploy_info *di)
{
	free(di->name);
	free(di->ports);
	memset(di, 0, sizeof(*di));
}
