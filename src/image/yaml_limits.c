#include "yaml_limits.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

struct anchor {
	char *name;
	size_t nodes, bytes; /* the anchored node's, its aliases expanded */
	bool open;	     /* still being read: an alias to it would be infinite */
};

struct shape {
	size_t depth;
	size_t nodes, bytes;		 /* read so far, aliases expanded */
	size_t alias_nodes, alias_bytes; /* the part the aliases added */
	struct anchor anchors[STACK_MAX_ANCHORS];
	size_t nanchors;
	/* per open collection: its anchor's index, or -1, and the counts at its start */
	struct {
		long anchor;
		size_t nodes, bytes;
	} open[STACK_MAX_DEPTH + 1];
	struct yaml_limit_error *e;
};

static int fail(struct shape *s, const yaml_event_t *ev, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct shape *s, const yaml_event_t *ev, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->e->text, sizeof(s->e->text), fmt, ap);
	va_end(ap);
	s->e->line = (int)ev->start_mark.line + 1;
	return -1;
}

/* The latest definition of name wins, as in YAML. */
static struct anchor *find_anchor(struct shape *s, const char *name)
{
	for (size_t i = s->nanchors; i-- > 0;)
		if (strcmp(s->anchors[i].name, name) == 0)
			return &s->anchors[i];
	return NULL;
}

static long add_anchor(struct shape *s, const yaml_event_t *ev, const yaml_char_t *name)
{
	if (!name)
		return -1;
	if (s->nanchors == STACK_MAX_ANCHORS)
		return fail(s, ev, "more than %d anchors (&name)", STACK_MAX_ANCHORS), -2;
	struct anchor *a = &s->anchors[s->nanchors];
	a->name = strdup((const char *)name);
	if (!a->name)
		return fail(s, ev, "out of memory"), -2;
	a->open = true;
	return (long)s->nanchors++;
}

static int on_alias(struct shape *s, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	struct anchor *a = find_anchor(s, name);
	if (!a)
		return 0; /* the loader reports the undefined alias */
	if (a->open)
		return fail(s, ev, "alias *%.40s is inside the node it names", name);
	s->nodes += a->nodes;
	s->bytes += a->bytes;
	s->alias_nodes += a->nodes;
	s->alias_bytes += a->bytes;
	if (s->alias_nodes > STACK_MAX_ALIAS_NODES)
		return fail(s, ev,
			    "aliases expand to more than %d nodes (at *%.40s): write the values "
			    "out, or use fewer aliases",
			    STACK_MAX_ALIAS_NODES, name);
	if (s->alias_bytes > STACK_MAX_ALIAS_BYTES)
		return fail(s, ev, "aliases expand to more than %d bytes of text (at *%.40s)",
			    STACK_MAX_ALIAS_BYTES, name);
	return 0;
}

static int on_start(struct shape *s, const yaml_event_t *ev, const yaml_char_t *anchor)
{
	if (s->depth == STACK_MAX_DEPTH)
		return fail(s, ev, "nested deeper than %d sequences and mappings", STACK_MAX_DEPTH);
	long a = add_anchor(s, ev, anchor);
	if (a == -2)
		return -1;
	s->open[s->depth].anchor = a;
	s->open[s->depth].nodes = s->nodes;
	s->open[s->depth].bytes = s->bytes;
	s->depth++;
	s->nodes++;
	return 0;
}

static void on_end(struct shape *s)
{
	if (!s->depth)
		return;
	s->depth--;
	long a = s->open[s->depth].anchor;
	if (a < 0)
		return;
	s->anchors[a].nodes = s->nodes - s->open[s->depth].nodes;
	s->anchors[a].bytes = s->bytes - s->open[s->depth].bytes;
	s->anchors[a].open = false;
}

static int on_scalar(struct shape *s, const yaml_event_t *ev)
{
	s->nodes++;
	s->bytes += ev->data.scalar.length;
	long a = add_anchor(s, ev, ev->data.scalar.anchor);
	if (a == -2)
		return -1;
	if (a >= 0) {
		s->anchors[a].nodes = 1;
		s->anchors[a].bytes = ev->data.scalar.length;
		s->anchors[a].open = false;
	}
	return 0;
}

/* One event; 1 when the first document has ended (or the YAML is broken: the loader says how). */
static int on_event(struct shape *s, const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		return on_alias(s, ev);
	case YAML_SCALAR_EVENT:
		return on_scalar(s, ev);
	case YAML_SEQUENCE_START_EVENT:
		return on_start(s, ev, ev->data.sequence_start.anchor);
	case YAML_MAPPING_START_EVENT:
		return on_start(s, ev, ev->data.mapping_start.anchor);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		on_end(s);
		return 0;
	case YAML_DOCUMENT_END_EVENT:
	case YAML_STREAM_END_EVENT:
		return 1;
	default:
		return 0;
	}
}

int yaml_limits_check(const char *text, size_t len, struct yaml_limit_error *e)
{
	if (len > STACK_MAX_BYTES) {
		e->line = 0;
		snprintf(e->text, sizeof(e->text), "larger than %d bytes", STACK_MAX_BYTES);
		return -1;
	}
	struct shape *s = calloc(1, sizeof(*s));
	if (!s) {
		e->line = 0;
		snprintf(e->text, sizeof(e->text), "out of memory");
		return -1;
	}
	s->e = e;
	yaml_parser_t parser;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	int rc = 0;
	while (rc == 0) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&parser, &ev))
			break;
		rc = on_event(s, &ev);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	for (size_t i = 0; i < s->nanchors; i++)
		free(s->anchors[i].name);
	free(s);
	return rc < 0 ? -1 : 0;
}
