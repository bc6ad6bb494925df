/* The control server's Basic auth: who gets in with which Authorization header. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "auth.h"

static char user[] = "user";
static char plain[] = "pass";
/* the SHA-1 of "pass", as supervisord's docs write it and in capitals */
static char sha[] = "{SHA}9d4e1e23bd5b727046a9e3b4b7db57bd8d6ee684";
static char sha_upper[] = "{SHA}9D4E1E23BD5B727046A9E3B4B7DB57BD8D6EE684";

#define USER_PASS  "Basic dXNlcjpwYXNz"	    /* user:pass */
#define USER_WRONG "Basic dXNlcjpwYXN0"	    /* user:past */
#define OTHER_PASS "Basic dXNlcnM6cGFzcw==" /* users:pass */

static void no_username_lets_everyone_in(void **state)
{
	struct http_server_conf conf = {.enabled = true};
	assert_true(auth_allows(&conf, NULL));
	assert_true(auth_allows(&conf, USER_WRONG));
}

static void a_username_wants_the_header(void **state)
{
	struct http_server_conf conf = {.username = user, .password = plain};
	assert_false(auth_allows(&conf, NULL));
	assert_false(auth_allows(&conf, ""));
	assert_false(auth_allows(&conf, "Bearer dXNlcjpwYXNz"));
	assert_false(auth_allows(&conf, "Basic !!!"));
}

static void the_plain_password_must_match(void **state)
{
	struct http_server_conf conf = {.username = user, .password = plain};
	assert_true(auth_allows(&conf, USER_PASS));
	assert_false(auth_allows(&conf, USER_WRONG));
	assert_false(auth_allows(&conf, OTHER_PASS));
}

static void a_sha_password_matches_in_either_case(void **state)
{
	struct http_server_conf conf = {.username = user, .password = sha};
	assert_true(auth_allows(&conf, USER_PASS));
	assert_false(auth_allows(&conf, USER_WRONG));
	conf.password = sha_upper;
	assert_true(auth_allows(&conf, USER_PASS));
	/* the hex itself typed as the password is not the password */
	assert_false(auth_allows(
	    &conf, "Basic dXNlcjp7U0hBfTlkNGUxZTIzYmQ1YjcyNzA0NmE5ZTNiNGI3ZGI1N2JkOGQ2ZWU2ODQ="));
}

static void no_password_takes_an_empty_one(void **state)
{
	struct http_server_conf conf = {.username = user};
	assert_true(auth_allows(&conf, "Basic dXNlcjo=")); /* user: */
	assert_false(auth_allows(&conf, USER_PASS));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(no_username_lets_everyone_in),
	    cmocka_unit_test(a_username_wants_the_header),
	    cmocka_unit_test(the_plain_password_must_match),
	    cmocka_unit_test(a_sha_password_matches_in_either_case),
	    cmocka_unit_test(no_password_takes_an_empty_one),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
