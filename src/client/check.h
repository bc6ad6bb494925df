/* `pidvisor check`: a health probe for Docker HEALTHCHECK and friends. */
#ifndef PIDVISOR_CHECK_H
#define PIDVISOR_CHECK_H

#include <stdio.h>

enum check_exit {
	CHECK_HEALTHY = 0,
	CHECK_UNHEALTHY = 1,
	CHECK_USAGE = 2,
	CHECK_NO_ANSWER = 3, /* cannot connect, auth refused, or a broken answer */
};

/* argv[0] is "check" (main passes argv+1 for `pidvisor check ...`). */
int check_main(int argc, char **argv);
void check_usage(FILE *out);

#endif
