/* The image planner (plan.c): parents, roots, depths, package managers, checks, build order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "plan.h"
#include "stack.h"

struct planned {
	struct stack st;
	struct diag d;
	int errors;
};

static void plan(struct planned *p, const char *yaml)
{
	memset(p, 0, sizeof(*p));
	assert_true(stack_load_string(&p->st, "t.yaml", yaml, strlen(yaml), &p->d) >= 0);
	p->errors = plan_resolve(&p->st, &p->d);
}

static void done(struct planned *p)
{
	stack_free(&p->st);
	diag_free(&p->d);
}

static int index_of(const struct stack *st, const char *name)
{
	for (size_t i = 0; i < st->n; i++)
		if (strcmp(st->images[i].name.s, name) == 0)
			return (int)i;
	fail_msg("no image %s", name);
	return -1;
}

static bool has_diag(const struct diag *d, const char *needle)
{
	for (size_t i = 0; i < d->n; i++)
		if (strstr(d->items[i].text, needle))
			return true;
	return false;
}

static const char forest[] = "version: 1\n"
			     "images:\n"
			     "  app:1.0:\n"
			     "    from: mid\n"
			     "  mid:\n"
			     "    from: base\n"
			     "  base:\n"
			     "    from: debian:bookworm\n"
			     "  tiny:\n"
			     "    from: alpine:3.19\n"
			     "  leaf:\n"
			     "    from: tiny\n";

static void test_parents_roots_depths(void **state)
{
	struct planned p;
	plan(&p, forest);
	assert_int_equal(p.errors, 0);
	int app = index_of(&p.st, "app:1.0"), mid = index_of(&p.st, "mid"),
	    base = index_of(&p.st, "base"), tiny = index_of(&p.st, "tiny"),
	    leaf = index_of(&p.st, "leaf");
	assert_int_equal(p.st.images[app].parent, mid);
	assert_int_equal(p.st.images[mid].parent, base);
	assert_int_equal(p.st.images[base].parent, -1);
	assert_int_equal(p.st.images[app].root, base);
	assert_int_equal(p.st.images[app].depth, 2);
	assert_int_equal(p.st.images[base].depth, 0);
	assert_int_equal(p.st.images[leaf].root, tiny);
	/* the package manager comes down from the root's base image */
	assert_int_equal(p.st.images[app].pm, PM_APT);
	assert_int_equal(p.st.images[leaf].pm, PM_APK);
	done(&p);
}

static void test_build_order_parents_first(void **state)
{
	struct planned p;
	plan(&p, forest);
	size_t *order, n;
	assert_int_equal(plan_order(&p.st, NULL, 0, &order, &n, &p.d), 0);
	assert_int_equal(n, 5);
	for (size_t i = 0; i < n; i++) /* every parent is built before its child */
		for (size_t j = i + 1; j < n; j++)
			assert_int_not_equal(p.st.images[order[i]].parent, (int)order[j]);
	free(order);

	char *names[] = {"app:1.0"};
	assert_int_equal(plan_order(&p.st, names, 1, &order, &n, &p.d), 0);
	assert_int_equal(n, 3); /* and only what it builds on */
	assert_string_equal(p.st.images[order[0]].name.s, "base");
	assert_string_equal(p.st.images[order[1]].name.s, "mid");
	assert_string_equal(p.st.images[order[2]].name.s, "app:1.0");
	free(order);

	char *bad[] = {"leef"};
	assert_int_equal(plan_order(&p.st, bad, 1, &order, &n, &p.d), -1);
	assert_true(has_diag(&p.d, "no image 'leef' in this stack (did you mean 'leaf'?)"));
	free(order);
	done(&p);
}

static void test_cycle_reported_once(void **state)
{
	struct planned p;
	plan(&p, "version: 1\nimages:\n"
		 "  a:\n    from: b\n"
		 "  b:\n    from: c\n"
		 "  c:\n    from: a\n"
		 "  d:\n    from: a\n");
	assert_int_equal(p.errors, 1);
	assert_true(has_diag(&p.d, "cycle: a -> b -> c -> a"));
	assert_int_equal(p.st.images[index_of(&p.st, "a")].root, -1);
	assert_int_equal(p.st.images[index_of(&p.st, "d")].root, -1);
	done(&p);
}

static void test_unpinned_and_unknown_parents(void **state)
{
	struct planned p;
	plan(&p, "version: 1\nimages:\n"
		 "  web:\n    from: debian\n"
		 "  api:\n    from: debian:latest\n"
		 "  ok:\n    from: debian@sha256:0123\n"
		 "  top:\n    from: webb\n");
	assert_true(has_diag(&p.d, "t.yaml:4: web from: 'debian' is not pinned"));
	assert_true(has_diag(&p.d, "t.yaml:6: api from: 'debian:latest' is not pinned"));
	assert_false(has_diag(&p.d, "ok from"));
	assert_true(has_diag(&p.d, "t.yaml:10: top from: no image 'webb' in this stack (did you "
				   "mean 'web'?)"));
	done(&p);
}

static void test_package_manager_guesses(void **state)
{
	static const struct {
		const char *from;
		enum pkg_manager pm;
	} cases[] = {
	    {"ubuntu:22.04", PM_APT},
	    {"centos:7", PM_YUM},
	    {"centos:7.9", PM_YUM},
	    {"centos:70", PM_DNF},
	    {"quay.io/centos/centos:stream9", PM_DNF},
	    {"amazonlinux:2", PM_YUM},
	    {"amazonlinux:2023", PM_DNF},
	    {"registry:5000/alpine:3", PM_APK},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char yaml[256];
		snprintf(yaml, sizeof(yaml), "version: 1\nimages:\n  x:\n    from: %s\n",
			 cases[i].from);
		struct planned p;
		plan(&p, yaml);
		if (p.st.images[0].pm != cases[i].pm)
			fail_msg("%s: %s, not %s", cases[i].from, pm_name(p.st.images[0].pm),
				 pm_name(cases[i].pm));
		done(&p);
	}
	struct planned p;
	plan(&p, "version: 1\nimages:\n  x:\n    from: myco/os:1\n    packages: [curl]\n"
		 "  y:\n    from: myco/os:1\n    package_manager: apk\n    packages: [curl]\n");
	assert_int_equal(p.errors, 1);
	assert_true(has_diag(&p.d, "t.yaml:5: x packages: cannot tell the package manager of "
				   "'myco/os:1'"));
	assert_int_equal(p.st.images[1].pm, PM_APK);
	done(&p);
}

static void test_programs_groups_files_names(void **state)
{
	struct planned p;
	plan(&p, "version: 1\nimages:\n"
		 "  base:\n    from: debian:12\n    programs:\n      web:\n        command: x\n"
		 "  top:\n    from: base\n    programs:\n      web:\n        command: y\n"
		 "      api:\n        command: z\n"
		 "    groups:\n      g:\n        programs: [web, api, nope]\n"
		 "    files:\n      /etc/passwd: relative/path\n      no/such/file: /x\n"
		 "  a/b:\n    from: debian:12\n"
		 "  a-b:\n    from: debian:12\n");
	assert_true(has_diag(&p.d, "t.yaml:11: top programs.web: also a program of base (line "
				   "6)"));
	assert_true(has_diag(&p.d, "top groups: 'nope' is not a program of this image"));
	assert_false(has_diag(&p.d, "'api' is not a program"));
	assert_true(has_diag(&p.d, "top files: 'relative/path' is not an absolute path"));
	assert_true(has_diag(&p.d, "top files: 'no/such/file' does not exist"));
	assert_true(has_diag(&p.d, "top files: '/etc/passwd' is outside the stack file's "
				   "directory"));
	assert_true(has_diag(&p.d, "a-b: its file name 'a-b' is the same as a/b's"));
	assert_int_equal(p.errors, 6);
	done(&p);
	char *flat = image_flat_name("reg:5000/a/b:1.0");
	assert_string_equal(flat, "reg-5000-a-b-1.0");
	free(flat);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parents_roots_depths),
	    cmocka_unit_test(test_build_order_parents_first),
	    cmocka_unit_test(test_cycle_reported_once),
	    cmocka_unit_test(test_unpinned_and_unknown_parents),
	    cmocka_unit_test(test_package_manager_guesses),
	    cmocka_unit_test(test_programs_groups_files_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
