/* strtab: every key found again through growth, keys told apart by length and content, a
 * missing key not found; and xgrow keeping every item of an array grown one at a time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "strtab.h"
#include "util.h"

enum { N = 5000 };

static void finds_every_key_through_growth(void **state)
{
	(void)state;
	static char keys[N][16];
	struct strtab t = {0};
	for (size_t i = 0; i < N; i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%zu", i);
		struct strtab_entry *e = strtab_put(&t, keys[i], strlen(keys[i]));
		assert_non_null(e);
		assert_null(e->val);
		e->val = (void *)(uintptr_t)(i + 1);
	}
	assert_int_equal(t.n, N);
	for (size_t i = 0; i < N; i++)
		assert_int_equal((uintptr_t)strtab_find(&t, keys[i]), i + 1);
	/* a second put finds the entry, value kept */
	assert_int_equal((uintptr_t)strtab_put(&t, "k7", 2)->val, 8);
	assert_int_equal(t.n, N);
	/* by (pointer, length): "k12=x" up to '=' is k12 */
	assert_int_equal((uintptr_t)strtab_get(&t, "k12=x", 3)->val, 13);
	assert_int_equal((uintptr_t)strtab_get(&t, "k12", 2)->val, 2); /* "k1" */
	assert_null(strtab_find(&t, "k5000"));
	assert_null(strtab_find(&t, ""));
	strtab_free(&t);
	assert_null(strtab_find(&t, "k1"));
}

static void xgrow_keeps_every_item(void **state)
{
	(void)state;
	size_t *v = NULL;
	for (size_t i = 0; i < N; i++) {
		v = xgrow(v, i, sizeof(*v));
		v[i] = i;
	}
	for (size_t i = 0; i < N; i++)
		assert_int_equal(v[i], i);
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(finds_every_key_through_growth),
	    cmocka_unit_test(xgrow_keeps_every_item),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
