/* pidvisor-image: layered Docker images from a stack file, with pidvisor as PID 1.
 * Exit status: 0 ok, 1 lint findings or a failed build, 2 usage or an unreadable/invalid stack
 * file (`build` returns docker's own status when a docker command fails). */
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build.h"
#include "confcheck.h"
#include "copy.h"
#include "deploy.h"
#include "diag.h"
#include "generate.h"
#include "lint.h"
#include "manifests.h"
#include "plan.h"
#include "stack.h"
#include "util.h"

enum {
	OPT_OUTPUT = 1 << 0,
	OPT_NETWORK = 1 << 1,
	OPT_NO_CACHE = 1 << 2,
	OPT_TAG_PREFIX = 1 << 3,
	OPT_PUSH = 1 << 4,
	OPT_DOCKER = 1 << 5,
	OPT_PIDVISOR = 1 << 6,
	OPT_HARDENED = 1 << 7,
	OPT_LAST = OPT_HARDENED,
};

struct opts {
	unsigned given;
	const char *output, *network, *tag_prefix, *docker, *pidvisor;
	bool no_cache, push, hardened;
	char **args; /* FILE [IMAGE...] */
	int nargs;
};

typedef int command_fn(struct opts *o);
static command_fn cmd_plan, cmd_generate, cmd_build, cmd_lint, cmd_compose, cmd_k8s;

static const struct command {
	const char *name;
	const char *usage;
	const char *summary;
	command_fn *run;
	unsigned options; /* OPT_* it takes */
	int min_args, max_args;
} commands[] = {
    {"plan", "FILE [IMAGE...]", "the images in build order, with their parents", cmd_plan,
     OPT_TAG_PREFIX, 1, INT_MAX},
    {"generate", "FILE -o DIR [IMAGE...]", "a build context per image in DIR/NAME/", cmd_generate,
     OPT_OUTPUT | OPT_TAG_PREFIX | OPT_PIDVISOR | OPT_HARDENED, 1, INT_MAX},
    {"build", "FILE [IMAGE...]", "generate, then docker build in dependency order", cmd_build,
     OPT_NETWORK | OPT_NO_CACHE | OPT_TAG_PREFIX | OPT_PUSH | OPT_DOCKER | OPT_PIDVISOR |
	 OPT_HARDENED,
     1, INT_MAX},
    {"lint", "FILE", "mistakes in a stack file or a Dockerfile, with FILE:LINE", cmd_lint,
     OPT_HARDENED, 1, 1},
    {"compose", "FILE [IMAGE...] [-o FILE]", "a Compose file for docker stack deploy", cmd_compose,
     OPT_OUTPUT | OPT_TAG_PREFIX | OPT_HARDENED, 1, INT_MAX},
    {"k8s", "FILE [IMAGE...] -o DIR", "Kubernetes manifests per image", cmd_k8s,
     OPT_OUTPUT | OPT_TAG_PREFIX | OPT_HARDENED, 1, INT_MAX},
};

/* Options with a value land in a string of struct opts, the others set a flag. */
static const struct optdef {
	const char *name;
	unsigned bit;
	size_t str;  /* offsetof a const char * in struct opts, or SIZE_MAX */
	size_t flag; /* offsetof a bool, when str is SIZE_MAX */
} optdefs[] = {
    {"output", OPT_OUTPUT, offsetof(struct opts, output), 0},
    {"network", OPT_NETWORK, offsetof(struct opts, network), 0},
    {"no-cache", OPT_NO_CACHE, SIZE_MAX, offsetof(struct opts, no_cache)},
    {"tag-prefix", OPT_TAG_PREFIX, offsetof(struct opts, tag_prefix), 0},
    {"push", OPT_PUSH, SIZE_MAX, offsetof(struct opts, push)},
    {"hardened", OPT_HARDENED, SIZE_MAX, offsetof(struct opts, hardened)},
    {"docker", OPT_DOCKER, offsetof(struct opts, docker), 0},
    {"pidvisor", OPT_PIDVISOR, offsetof(struct opts, pidvisor), 0},
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: pidvisor-image COMMAND FILE [options]\n\nCommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-9s %-24s %s\n", commands[i].name, commands[i].usage,
			commands[i].summary);
	fprintf(f,
		"\nOptions:\n"
		"  -o, --output DIR     generate: where the build contexts go; k8s: where the\n"
		"                       manifests go; compose: the file (else stdout)\n"
		"  --tag-prefix P       prepend P to the stack's image names (tags and FROM)\n"
		"  --network NET        build: docker build --network NET\n"
		"  --no-cache           build: docker build --no-cache\n"
		"  --push               build: docker push each image once built\n"
		"  --hardened           generate, build, compose, k8s, lint: every image that does "
		"not\n"
		"                       set `hardened` is hardened (docs/stack-file.md)\n"
		"  --docker PATH        build: the docker client (else $PIDVISOR_DOCKER, docker)\n"
		"  --pidvisor PATH      the static pidvisor for root images (else "
		"pidvisor-static\n"
		"                       next to pidvisor-image; `make static` builds it)\n"
		"  -h, --help           this help\n"
		"  -V, --version        the version\n"
		"\nExit status: 0 ok, 1 lint findings or a failed build (docker's status), 2 "
		"usage\nor an unreadable or invalid stack file. See pidvisor-image(1).\n");
}

/* --hardened is `defaults: {hardened: true}`: for the images that do not set it. */
static void apply_hardened(struct stack *st, const struct opts *o)
{
	for (size_t i = 0; i < st->n && o->hardened; i++)
		if (!st->images[i].hardened.s)
			st->images[i].hardened = (struct sval){xstrdup("true"), 0};
}

/* Loads and resolves the stack; prints what is wrong. Returns NULL when it is invalid. */
static struct stack *load_stack(const struct opts *o)
{
	struct stack *st = xcalloc(1, sizeof(*st));
	struct diag d = {0};
	if (stack_load(st, o->args[0], &d) >= 0) {
		apply_hardened(st, o);
		plan_resolve(st, &d);
	}
	diag_print(&d, stderr);
	bool bad = d.errors > 0;
	diag_free(&d);
	if (!bad)
		return st;
	stack_free(st);
	free(st);
	return NULL;
}

static void free_stack(struct stack *st)
{
	stack_free(st);
	free(st);
}

static int select_images(const struct stack *st, struct opts *o, size_t **order, size_t *n)
{
	struct diag d = {0};
	int rc = plan_order(st, o->args + 1, (size_t)o->nargs - 1, order, n, &d);
	diag_print(&d, stderr);
	diag_free(&d);
	return rc;
}

static int cmd_plan(struct opts *o)
{
	struct stack *st = load_stack(o);
	if (!st)
		return 2;
	size_t *order, n;
	int rc = select_images(st, o, &order, &n) ? 2 : 0;
	for (size_t k = 0; rc == 0 && k < n; k++) {
		const struct image *im = &st->images[order[k]];
		const char *prefix = o->tag_prefix ? o->tag_prefix : "";
		if (im->parent >= 0)
			printf("%zu. %s%s <- %s%s\n", k + 1, prefix, im->name.s, prefix,
			       st->images[im->parent].name.s);
		else
			printf("%zu. %s%s <- %s (root, %s)\n", k + 1, prefix, im->name.s,
			       im->from.s, pm_name(im->pm));
	}
	free(order);
	free_stack(st);
	return rc;
}

/* --pidvisor, else pidvisor-static in the directory of this executable (a build tree), else
 * in ../lib/pidvisor/ from there (where `make install` puts it). Malloc'd or NULL. */
static char *find_pidvisor(const char *option)
{
	if (option) {
		if (access(option, R_OK) == 0)
			return xstrdup(option);
		fprintf(stderr, "pidvisor-image: --pidvisor %s: %s\n", option, strerror(errno));
		return NULL;
	}
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		const char *dir = dirname(self);
		char *path = xasprintf("%s/pidvisor-static", dir);
		if (access(path, R_OK) == 0)
			return path;
		char *installed = xasprintf("%s/../lib/pidvisor/pidvisor-static", dir);
		if (access(installed, R_OK) == 0) {
			free(path);
			return installed;
		}
		free(installed);
		fprintf(stderr,
			"pidvisor-image: %s not found: run `make static`, or give the static "
			"pidvisor with --pidvisor PATH\n",
			path);
		free(path);
		return NULL;
	}
	fprintf(stderr, "pidvisor-image: cannot find the static pidvisor: give --pidvisor PATH\n");
	return NULL;
}

static bool order_has_root(const struct stack *st, const size_t *order, size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (st->images[order[k]].parent < 0)
			return true;
	return false;
}

/* Loads, selects and writes the contexts to outdir. Returns 0 or an exit status. */
static int prepare(struct opts *o, const char *outdir, struct stack **stp, size_t **order,
		   size_t *n)
{
	struct stack *st = load_stack(o);
	if (!st)
		return 2;
	*order = NULL;
	if (select_images(st, o, order, n) != 0) {
		free(*order);
		free_stack(st);
		return 2;
	}
	char *bin = NULL;
	if (order_has_root(st, *order, *n) && !(bin = find_pidvisor(o->pidvisor))) {
		free(*order);
		free_stack(st);
		return 2;
	}
	struct generate_opts g = {outdir, bin, o->tag_prefix ? o->tag_prefix : ""};
	struct diag d = {0};
	int rc = generate_contexts(st, *order, *n, &g, &d) ? 1 : 0;
	diag_print(&d, stderr);
	diag_free(&d);
	free(bin);
	if (rc) {
		free(*order);
		free_stack(st);
		return rc;
	}
	*stp = st;
	return 0;
}

static int cmd_generate(struct opts *o)
{
	if (!o->output) {
		fprintf(stderr, "pidvisor-image generate: -o DIR is required\n");
		return 2;
	}
	struct stack *st;
	size_t *order, n;
	int rc = prepare(o, o->output, &st, &order, &n);
	if (rc)
		return rc;
	for (size_t k = 0; k < n; k++) {
		char *dir = context_dir(st, order[k], o->output);
		printf("%s: %s\n", st->images[order[k]].name.s, dir);
		free(dir);
	}
	free(order);
	free_stack(st);
	return 0;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int cmd_build(struct opts *o)
{
	const char *tmp = getenv("TMPDIR");
	char *dir = xasprintf("%s/pidvisor-image.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		fprintf(stderr, "pidvisor-image: cannot create %s: %s\n", dir, strerror(errno));
		free(dir);
		return 2;
	}
	struct stack *st;
	size_t *order, n;
	int rc = prepare(o, dir, &st, &order, &n);
	if (rc == 0) {
		struct build_opts b = {build_docker_path(o->docker),
				       o->network,
				       o->tag_prefix,
				       o->no_cache,
				       o->push,
				       dir};
		rc = build_images(st, order, n, &b);
		free(order);
		free_stack(st);
	}
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
	return rc;
}

static bool is_dockerfile(const char *path)
{
	char *copy = xstrdup(path);
	bool yes = strncmp(basename(copy), "Dockerfile", 10) == 0;
	free(copy);
	return yes;
}

static int cmd_lint(struct opts *o)
{
	const char *path = o->args[0];
	struct diag d = {0};
	int rc;
	if (is_dockerfile(path)) {
		rc = lint_dockerfile(path, &d) < 0 ? 2 : d.n ? 1 : 0;
	} else {
		struct stack st;
		int loaded = stack_load(&st, path, &d);
		if (loaded >= 0) {
			apply_hardened(&st, o);
			plan_resolve(&st, &d);
			lint_stack(&st, &d);
		}
		/* values once the schema is right: no echo of its errors */
		if (loaded == 0 && plan_chains_bounded(&st))
			check_program_values(&st, &d);
		rc = loaded < 0 ? 2 : d.n ? 1 : 0;
		stack_free(&st);
	}
	diag_print(&d, stdout);
	diag_free(&d);
	return rc;
}

/* The images named, else every image no other image of the stack builds on (the apps). */
static int deploy_selection(const struct stack *st, struct opts *o, size_t **sel, size_t *n)
{
	*sel = xcalloc(st->n ? st->n : 1, sizeof(**sel));
	*n = 0;
	struct diag d = {0};
	int rc = 0;
	for (int k = 1; k < o->nargs && rc == 0; k++) {
		size_t i = 0;
		while (i < st->n && !image_name_eq(st->images[i].name.s, o->args[k]))
			i++;
		if (i == st->n) {
			diag_add(&d, DIAG_ERROR, st->path, 0, NULL, NULL,
				 "no image '%s' in this stack", o->args[k]);
			rc = 2;
		} else {
			(*sel)[(*n)++] = i;
		}
	}
	for (size_t i = 0; o->nargs == 1 && i < st->n; i++) {
		bool parent = false;
		for (size_t j = 0; j < st->n && !parent; j++)
			parent = st->images[j].parent == (int)i;
		if (!parent)
			(*sel)[(*n)++] = i;
	}
	diag_print(&d, stderr);
	diag_free(&d);
	return rc;
}

/* Writes text to path (stdout for NULL or "-"); frees text. Returns 0 or 1. */
static int write_output(const char *path, char *text)
{
	int rc = 0;
	if (!path || strcmp(path, "-") == 0) {
		fputs(text, stdout);
	} else {
		const char *failed;
		if (write_file(path, text, 0644, &failed) != 0) {
			fprintf(stderr, "pidvisor-image: %s: %s\n", failed, strerror(errno));
			rc = 1;
		}
	}
	free(text);
	return rc;
}

static int cmd_compose(struct opts *o)
{
	struct stack *st = load_stack(o);
	if (!st)
		return 2;
	size_t *sel, n;
	int rc = deploy_selection(st, o, &sel, &n);
	if (rc == 0) {
		struct diag d = {0};
		char *text = compose_file(st, sel, n, o->tag_prefix ? o->tag_prefix : "", &d);
		diag_print(&d, stderr);
		diag_free(&d);
		rc = text ? write_output(o->output, text) : 2;
	}
	free(sel);
	free_stack(st);
	return rc;
}

static int cmd_k8s(struct opts *o)
{
	if (!o->output) {
		fprintf(stderr, "pidvisor-image k8s: -o DIR is required\n");
		return 2;
	}
	struct stack *st = load_stack(o);
	if (!st)
		return 2;
	size_t *sel, n;
	int rc = deploy_selection(st, o, &sel, &n);
	const char *failed;
	if (rc == 0 && mkdir_p(o->output, &failed) != 0) {
		fprintf(stderr, "pidvisor-image: %s: %s\n", failed, strerror(errno));
		rc = 1;
	}
	for (size_t k = 0; rc == 0 && k < n; k++) {
		struct diag d = {0};
		char *text = k8s_manifest(st, sel[k], o->tag_prefix ? o->tag_prefix : "", &d);
		diag_print(&d, stderr);
		diag_free(&d);
		if (!text) {
			rc = 2;
			break;
		}
		char *name = deploy_name(st->images[sel[k]].name.s);
		char *path = xasprintf("%s/%s.yaml", o->output, name);
		rc = write_output(path, text);
		if (rc == 0)
			printf("%s: %s\n", st->images[sel[k]].name.s, path);
		free(path);
		free(name);
	}
	free(sel);
	free_stack(st);
	return rc;
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static const char *option_name(unsigned bit)
{
	for (size_t i = 0; i < ARRAY_SIZE(optdefs); i++)
		if (optdefs[i].bit == bit)
			return optdefs[i].name;
	return "?";
}

enum { OPT_FIRST = 256 }; /* getopt values of optdefs[i]: OPT_FIRST + i */

static int parse_options(int argc, char **argv, struct opts *o)
{
	struct option long_opts[ARRAY_SIZE(optdefs) + 3] = {{"help", no_argument, NULL, 'h'},
							    {"version", no_argument, NULL, 'V'}};
	for (size_t i = 0; i < ARRAY_SIZE(optdefs); i++)
		long_opts[i + 2] = (struct option){
		    optdefs[i].name, optdefs[i].str == SIZE_MAX ? no_argument : required_argument,
		    NULL, OPT_FIRST + (int)i};
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:hV", long_opts, NULL)) != -1) {
		if (c == 'o')
			c = OPT_FIRST; /* -o is --output */
		if (c >= OPT_FIRST && c < OPT_FIRST + (int)ARRAY_SIZE(optdefs)) {
			const struct optdef *def = &optdefs[c - OPT_FIRST];
			if (def->str != SIZE_MAX)
				*(const char **)((char *)o + def->str) = optarg;
			else
				*(bool *)((char *)o + def->flag) = true;
			o->given |= def->bit;
		} else if (c == 'h') {
			usage(stdout);
			exit(0);
		} else if (c == 'V') {
			printf("pidvisor-image %s\n", PIDVISOR_VERSION);
			exit(0);
		} else {
			fprintf(stderr, "pidvisor-image: %s %s\n", argv[optind - 1],
				c == ':' ? "needs a value" : "is not an option");
			return -1;
		}
	}
	return optind;
}

int main(int argc, char **argv)
{
	struct opts o = {0};
	int first = parse_options(argc, argv, &o);
	if (first < 0 || first >= argc) {
		if (first >= 0)
			fprintf(stderr, "pidvisor-image: no command\n");
		usage(stderr);
		return 2;
	}
	const struct command *cmd = find_command(argv[first]);
	if (!cmd) {
		fprintf(stderr, "pidvisor-image: unknown command '%s'\n", argv[first]);
		usage(stderr);
		return 2;
	}
	o.args = argv + first + 1;
	o.nargs = argc - first - 1;
	if (o.nargs < cmd->min_args || o.nargs > cmd->max_args) {
		fprintf(stderr, "Usage: pidvisor-image %s %s\n", cmd->name, cmd->usage);
		return 2;
	}
	for (unsigned bit = 1; bit <= OPT_LAST; bit <<= 1)
		if ((o.given & bit) && !(cmd->options & bit)) {
			fprintf(stderr, "pidvisor-image %s: --%s does not apply\n", cmd->name,
				option_name(bit));
			return 2;
		}
	return cmd->run(&o);
}
