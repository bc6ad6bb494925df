/* One binary, several names: the daemon, `ctl` (supervisorctl) and `check`. */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("pidvisor %s\n", PIDVISOR_VERSION);
	return 0;
}
