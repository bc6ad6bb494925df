/* The stack loader's bounds (yaml_limits.c) and the checks that keep a value on its own line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "stack.h"
#include "yaml_limits.h"

static int limits(const char *yaml, struct yaml_limit_error *e)
{
	return yaml_limits_check(yaml, strlen(yaml), e);
}

/* "[x, x, ...]" of n items, malloc'd. */
static char *flow(size_t n, const char *item)
{
	size_t len = n * (strlen(item) + 2) + 3;
	char *s = malloc(len), *p = s;
	*p++ = '[';
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "%s%s", i ? ", " : "", item);
	strcpy(p, "]");
	return s;
}

static void test_alias_expansion_budget(void **state)
{
	(void)state;
	struct yaml_limit_error e;
	char *ten = flow(10, "x"), *a = flow(10, "*a"), *b = flow(100, "*b");
	char yaml[4096];
	/* 10 items (11 nodes) aliased 10 times inside b, b aliased 100 times: 11,000+ nodes */
	snprintf(yaml, sizeof(yaml), "a: &a %s\nb: &b %s\nc: %s\n", ten, a, b);
	assert_int_equal(limits(yaml, &e), -1);
	assert_int_equal(e.line, 3);
	assert_non_null(strstr(e.text, "aliases expand to more than 10000 nodes (at *b)"));
	/* the same with b aliased 50 times: 50 * (1 + 10 * 11) + 110 = 5660 nodes */
	free(b);
	b = flow(50, "*b");
	snprintf(yaml, sizeof(yaml), "a: &a %s\nb: &b %s\nc: %s\n", ten, a, b);
	assert_int_equal(limits(yaml, &e), 0);
	free(ten);
	free(a);
	free(b);
}

static void test_alias_text_budget_and_loop(void **state)
{
	(void)state;
	struct yaml_limit_error e;
	size_t n = 300 * 1024;
	char *yaml = malloc(n + 100);
	strcpy(yaml, "s: &s '");
	memset(yaml + 7, 'y', n);
	strcpy(yaml + 7 + n, "'\nl: [*s, *s, *s, *s]\n");
	assert_int_equal(limits(yaml, &e), -1);
	assert_non_null(strstr(e.text, "more than 1048576 bytes of text"));
	strcpy(yaml + 7 + n, "'\nl: [*s, *s, *s]\n");
	assert_int_equal(limits(yaml, &e), 0);
	free(yaml);
	assert_int_equal(limits("a: &r [1, *r]\n", &e), -1);
	assert_non_null(strstr(e.text, "alias *r is inside the node it names"));
	/* an anchor redefined: the alias takes the latest, closed one */
	assert_int_equal(limits("a: &r x\nb: &r [*r]\n", &e), -1);
	assert_int_equal(limits("a: &r [x]\nb: &r y\nc: [*r, *r]\n", &e), 0);
}

static void test_depth_and_anchors(void **state)
{
	(void)state;
	struct yaml_limit_error e;
	char yaml[400];
	memset(yaml, '[', 64);
	memset(yaml + 64, ']', 64);
	yaml[128] = '\0';
	assert_int_equal(limits(yaml, &e), 0);
	memset(yaml, '[', 65);
	memset(yaml + 65, ']', 65);
	yaml[130] = '\0';
	assert_int_equal(limits(yaml, &e), -1);
	assert_string_equal(e.text, "nested deeper than 64 sequences and mappings");
	assert_int_equal(e.line, 1);
	struct buf b = {0};
	buf_puts(&b, "[");
	for (int i = 0; i <= STACK_MAX_ANCHORS; i++)
		buf_printf(&b, "%s&a%d x", i ? ", " : "", i);
	buf_puts(&b, "]\n");
	assert_int_equal(yaml_limits_check(b.data, b.len, &e), -1);
	assert_string_equal(e.text, "more than 1000 anchors (&name)");
	buf_free(&b);
}

static void test_size_limit(void **state)
{
	(void)state;
	struct yaml_limit_error e;
	char *big = malloc(STACK_MAX_BYTES + 1);
	memset(big, '#', STACK_MAX_BYTES + 1);
	assert_int_equal(yaml_limits_check(big, STACK_MAX_BYTES + 1, &e), -1);
	assert_string_equal(e.text, "larger than 1048576 bytes");
	assert_int_equal(yaml_limits_check(big, STACK_MAX_BYTES, &e), 0);
	free(big);
}

static void test_array_grow_doubles(void **state)
{
	(void)state;
	int *v = NULL;
	for (size_t n = 0; n < 1000; n++) {
		v = array_grow(v, n, sizeof(*v));
		v[n] = (int)n; /* ASan would catch a write past the capacity */
	}
	for (size_t n = 0; n < 1000; n++)
		assert_int_equal(v[n], (int)n);
	free(v);
}

static bool has_diag(const struct diag *d, const char *needle)
{
	for (size_t i = 0; i < d->n; i++)
		if (strstr(d->items[i].text, needle))
			return true;
	return false;
}

/* A message for every value that would start a line of its own, and none of them kept. */
static void test_values_with_line_breaks_refused(void **state)
{
	(void)state;
	const char *yaml = "images:\n"
			   "  a:\n"
			   "    from: debian:12\n"
			   "    user: \"app\\nRUN id\"\n"
			   "    env: {A: \"x\\nRUN id\", \"B\\nRUN id\": y}\n"
			   "    run: [\"true\\nRUN id\", 'ok']\n"
			   "    supervisord: {loglevel: \"info\\n[program:x]\"}\n";
	struct stack st;
	struct diag d = {0};
	assert_int_equal(stack_load_string(&st, "t.yaml", yaml, strlen(yaml), &d), 1);
	assert_true(has_diag(&d, "t.yaml:4: a user: 'app\\nRUN id' contains a line break"));
	assert_true(has_diag(&d, "t.yaml:5: a env.A: 'x\\nRUN id' contains a line break"));
	assert_true(has_diag(&d, "t.yaml:5: a env: 'B\\nRUN id' contains a line break"));
	assert_true(has_diag(&d, "t.yaml:6: a run: 'true\\nRUN id' contains a line break"));
	assert_true(has_diag(&d, "t.yaml:7: a supervisord.loglevel: 'info\\n[program:x]'"));
	for (size_t i = 0; i < d.n; i++)
		assert_null(strchr(d.items[i].text, '\n'));
	const struct image *im = &st.images[0];
	assert_null(im->user.s);
	assert_int_equal(im->env.n, 0);
	assert_int_equal(im->run.n, 1);
	assert_string_equal(im->run.v[0].s, "ok");
	assert_int_equal(im->supervisord.n, 0);
	stack_free(&st);
	diag_free(&d);
}

static void test_names_strict(void **state)
{
	(void)state;
	const char *yaml =
	    "images:\n"
	    "  a:\n"
	    "    from: 'debian:12 AS b'\n"
	    "    user: 'app;id'\n"
	    "    packages: [curl, 'x && id', 'libc6=2.36-9', 'pkg/bookworm-backports']\n"
	    "    env: {'A B': x, _OK1: y}\n"
	    "    labels: {'a\"b': x, org.example/x-y_z: y}\n"
	    "    run: ['true \\', '']\n"
	    "  b:\n"
	    "    from: 'debian:12@sha256:0123abcd'\n"
	    "    user: '1000:staff'\n";
	struct stack st;
	struct diag d = {0};
	assert_int_equal(stack_load_string(&st, "t.yaml", yaml, strlen(yaml), &d), 1);
	assert_true(has_diag(&d, "t.yaml:3: a from: 'debian:12 AS b' is not an image reference"));
	assert_true(has_diag(&d, "t.yaml:4: a user: 'app;id' is not USER[:GROUP]"));
	assert_true(has_diag(&d, "t.yaml:5: a packages: 'x && id' is not a package name"));
	assert_true(has_diag(&d, "t.yaml:6: a env: 'A B' is not a variable name"));
	assert_true(has_diag(&d, "t.yaml:7: a labels: 'a\"b' is not a label name"));
	assert_true(has_diag(&d, "t.yaml:8: a run: 'true \\' ends with a backslash"));
	assert_false(has_diag(&d, "curl"));
	assert_false(has_diag(&d, "libc6"));
	assert_false(has_diag(&d, "bookworm-backports"));
	assert_false(has_diag(&d, "_OK1"));
	assert_false(has_diag(&d, "org.example"));
	assert_false(has_diag(&d, "t.yaml:10:"));
	assert_false(has_diag(&d, "t.yaml:11:"));
	assert_int_equal(d.errors, 6);
	stack_free(&st);
	diag_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_alias_expansion_budget),
	    cmocka_unit_test(test_alias_text_budget_and_loop),
	    cmocka_unit_test(test_depth_and_anchors),
	    cmocka_unit_test(test_size_limit),
	    cmocka_unit_test(test_array_grow_doubles),
	    cmocka_unit_test(test_values_with_line_breaks_refused),
	    cmocka_unit_test(test_names_strict),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
