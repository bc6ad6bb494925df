/* The stand-in for a corpus program that is not installed here (tests/compat/test_corpus.py):
 * it keeps the argv, user, cwd, environment and umask it was started with and sleeps until a
 * signal ends it, so its state under either supervisor never depends on timing. */
#include <sys/resource.h>
#include <unistd.h>

int main(void)
{
	/* stopsignal=QUIT would otherwise dump a core into the program's directory. */
	struct rlimit none = {0, 0};
	setrlimit(RLIMIT_CORE, &none);
	for (;;)
		pause();
}
