#include "ready_spec.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "values.h"

/* The regex is compiled here only to refuse a bad one at load; each process compiles its own. */
static int parse_log(const char *re, struct ready_spec *out, char **why)
{
	regex_t rx;
	int rc = regcomp(&rx, re, REG_EXTENDED | REG_NOSUB);
	if (rc != 0) {
		char msg[256];
		regerror(rc, &rx, msg, sizeof(msg));
		*why = xasprintf("'log:%s' is not a valid POSIX extended regex: %s", re, msg);
		return -1;
	}
	regfree(&rx);
	out->regex = xstrdup(re);
	return 0;
}

int ready_spec_parse(const char *v, struct ready_spec *out, char **why)
{
	memset(out, 0, sizeof(*out));
	if (!*v)
		return 0;
	if (!strcmp(v, "notify")) {
		out->kind = READY_NOTIFY;
	} else if (!strncmp(v, "log:", 4)) {
		if (!v[4]) {
			*why = xasprintf("'%s' needs a regex after log:", v);
			return -1;
		}
		if (parse_log(v + 4, out, why) < 0)
			return -1;
		out->kind = READY_LOG;
	} else if (!strncmp(v, "fd:", 3)) {
		long long n;
		if (parse_int(v + 3, READY_FD_MIN, READY_FD_MAX, &n) < 0) {
			*why = xasprintf("'%s' does not name a descriptor from %d to %d", v,
					 READY_FD_MIN, READY_FD_MAX);
			return -1;
		}
		out->kind = READY_FD;
		out->fd = (int)n;
	} else {
		*why = xasprintf("'%s' is not one of notify, fd:N, log:REGEX", v);
		return -1;
	}
	out->text = xstrdup(v);
	return 0;
}

void ready_spec_free(struct ready_spec *r)
{
	free(r->text);
	free(r->regex);
	memset(r, 0, sizeof(*r));
}

bool ready_spec_equal(const struct ready_spec *a, const struct ready_spec *b)
{
	if (a->kind != b->kind)
		return false;
	return a->kind == READY_NONE || (a->text && b->text && !strcmp(a->text, b->text));
}
