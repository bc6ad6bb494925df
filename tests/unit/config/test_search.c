/* config_search: supervisord's list, from the binary's grandparent directory on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

static void touch(const char *path)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
}

static void test_search_order(void **state)
{
	char h[] = "/tmp/pidvisor-search-XXXXXX";
	char p[200], bin[200], real[200];
	assert_non_null(mkdtemp(h));
	assert_non_null(realpath(h, real));
	snprintf(bin, sizeof(bin), "%s/bin/pidvisor", h);
	snprintf(p, sizeof(p), "%s/bin", h);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/etc", h);
	assert_int_equal(mkdir(p, 0755), 0);

	/* H/supervisord.conf, then H/etc/supervisord.conf before it once it exists */
	snprintf(p, sizeof(p), "%s/supervisord.conf", h);
	touch(p);
	char *found = config_search(bin);
	char want[300];
	snprintf(want, sizeof(want), "%s/supervisord.conf", real);
	assert_string_equal(found, want);
	free(found);
	snprintf(p, sizeof(p), "%s/etc/supervisord.conf", h);
	touch(p);
	found = config_search(bin);
	snprintf(want, sizeof(want), "%s/etc/supervisord.conf", real);
	assert_string_equal(found, want);
	free(found);

	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", h);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_search_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
