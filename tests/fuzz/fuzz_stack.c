/* libFuzzer target: stack files (the YAML limits, libyaml's document, the schema walk and its
 * messages), then what every command does with a loaded stack: resolve, lint, order and the
 * generated text, whose every line must be one pidvisor-image writes (no value injects one). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "generate.h"
#include "lint.h"
#include "manifests.h"
#include "plan.h"
#include "stack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The instructions pidvisor-image writes; a line starting with any other word was injected. */
static const char *const keywords[] = {"FROM ",	  "USER ",	 "ENV ",	"WORKDIR ",
				       "RUN ",	  "COPY ",	 "LABEL ",	"EXPOSE ",
				       "VOLUME ", "ENTRYPOINT ", "STOPSIGNAL ", "HEALTHCHECK "};

static bool dockerfile_line_ok(const char *line)
{
	if (!*line || *line == '#' || !strncmp(line, " && ", 4) || !strncmp(line, "    ", 4))
		return true;
	for (size_t k = 0; k < sizeof(keywords) / sizeof(keywords[0]); k++)
		if (!strncmp(line, keywords[k], strlen(keywords[k])))
			return true;
	return false;
}

/* An INI line of ours: a comment, a section of ours, or KEY=VALUE with a plain key. */
static bool ini_line_ok(const char *line)
{
	if (!*line || *line == ';')
		return true;
	if (*line == '[')
		return !strncmp(line, "[program:", 9) || !strncmp(line, "[group:", 7) ||
		       !strcmp(line, "[supervisord]") || !strcmp(line, "[unix_http_server]") ||
		       !strcmp(line, "[supervisorctl]") || !strcmp(line, "[include]");
	const char *eq = strchr(line, '=');
	if (!eq || eq == line)
		return false;
	for (const char *p = line; p < eq; p++)
		if (!(*p == '_' || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
			return false;
	return true;
}

/* Every line of text passes ok: no stack value started a line of its own. */
static void check_lines(const char *text, bool (*ok)(const char *))
{
	char *copy = strdup(text);
	for (char *line = copy, *next; line; line = next) {
		char *nl = strchr(line, '\n');
		next = nl ? nl + 1 : NULL;
		if (nl)
			*nl = '\0';
		if (!ok(line))
			__builtin_trap(); /* a value injected a line */
	}
	free(copy);
}

/* A YAML line of ours: indented, a comment, a document break or one of our top-level keys. */
static bool yaml_line_ok(const char *line)
{
	static const char *const top[] = {"apiVersion: ", "kind: ",    "metadata:", "spec:",
					  "version: ",	  "services:", "volumes:",  "---"};
	if (!*line || *line == ' ' || *line == '#')
		return true;
	for (size_t k = 0; k < sizeof(top) / sizeof(top[0]); k++)
		if (!strncmp(line, top[k], strlen(top[k])))
			return true;
	return false;
}

/* compose and k8s on every image: no stack value adds a key of its own. */
static void manifests_all(const struct stack *st, const size_t *order, size_t n)
{
	struct diag d = {0};
	char *text = compose_file(st, order, n, "reg.example/", &d);
	if (text)
		check_lines(text, yaml_line_ok);
	free(text);
	for (size_t i = 0; i < st->n; i++) {
		text = k8s_manifest(st, i, "", &d);
		if (text)
			check_lines(text, yaml_line_ok);
		free(text);
	}
	diag_free(&d);
}

static void generate_all(const struct stack *st)
{
	for (size_t i = 0; i < st->n; i++) {
		/* the main conf: a root's, or a hardened (or un-hardened) child's */
		char *texts[] = {generate_dockerfile(st, i, "reg.example/"),
				 generate_layer_conf(st, i), generate_main_conf(st, i)};
		check_lines(texts[0], dockerfile_line_ok);
		check_lines(texts[1], ini_line_ok);
		if (texts[2])
			check_lines(texts[2], ini_line_ok);
		for (size_t k = 0; k < 3; k++)
			free(texts[k]);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stack st;
	struct diag d = {0};
	int rc = stack_load_string(&st, "fuzz/stack.yaml", (const char *)data, size, &d);
	if (rc >= 0) {
		int errors = plan_resolve(&st, &d);
		lint_stack(&st, &d);
		size_t *order, n;
		if (plan_order(&st, NULL, 0, &order, &n, &d) != 0 || n != st.n)
			__builtin_trap(); /* every image once */
		if (rc == 0 && errors == 0) {
			bool *done = calloc(st.n + 1, sizeof(*done));
			for (size_t k = 0; k < n; k++) {
				int parent = st.images[order[k]].parent;
				if (parent >= 0 && !done[parent])
					__builtin_trap(); /* parents first */
				done[order[k]] = true;
			}
			free(done);
			generate_all(&st);
			manifests_all(&st, order, n);
		}
		free(order);
	}
	for (size_t i = 0; i < d.n; i++)
		if (strncmp(d.items[i].text, "fuzz/stack.yaml", 15) != 0)
			__builtin_trap(); /* every message names the file */
	diag_free(&d);
	stack_free(&st);
	return 0;
}
