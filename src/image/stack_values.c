/* What a stack file's values may be: image references, names, ports, users, mounts, quantities.
 * Pure string checks; the loader reports what they refuse. */
#include "stack_values.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stack.h"
#include "util.h"
#include "values.h"

/*
 * Why a scalar cannot be written into one line of a Dockerfile, an INI file or a message, or
 * NULL: every value of a stack file ends up in one of them, and a line break there would start
 * an instruction or a section of the writer's choosing.
 */
const char *bad_text(const char *s, size_t len)
{
	if (strlen(s) != len)
		return "contains a NUL character";
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '\n' || c == '\r')
			return "contains a line break (a generated Dockerfile or INI line cannot "
			       "carry one)";
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return "contains a control character";
	}
	return NULL;
}

static bool is_alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool only_chars(const char *s, const char *extra)
{
	if (!is_alnum(*s))
		return false;
	for (; *s; s++)
		if (!is_alnum(*s) && !strchr(extra, *s))
			return false;
	return true;
}

const char *image_tag(const char *ref)
{
	const char *slash = strrchr(ref, '/');
	const char *colon = strchr(slash ? slash : ref, ':');
	return colon ? colon + 1 : "";
}

bool image_name_eq(const char *a, const char *b)
{
	size_t an = strlen(a) - (*image_tag(a) ? strlen(image_tag(a)) + 1 : 0);
	size_t bn = strlen(b) - (*image_tag(b) ? strlen(image_tag(b)) + 1 : 0);
	const char *at = *image_tag(a) ? image_tag(a) : "latest";
	const char *bt = *image_tag(b) ? image_tag(b) : "latest";
	return an == bn && strncmp(a, b, an) == 0 && strcmp(at, bt) == 0;
}

/* Docker's rules, loosely: lower-case repository path, optional registry host[:port], tag. */
const char *bad_image_name(const char *s)
{
	if (!*s)
		return "is empty";
	const char *tag = image_tag(s);
	size_t repo_len = strlen(s) - (*tag ? strlen(tag) + 1 : 0);
	const char *first_slash = strchr(s, '/');
	for (size_t i = 0; i < repo_len; i++) {
		unsigned char c = (unsigned char)s[i];
		bool in_host = first_slash && s + i < first_slash;
		if (isspace(c))
			return "contains whitespace";
		if (isupper(c) && !in_host)
			return "has upper-case letters (docker takes lower-case repository names)";
		if (!isalnum(c) && !strchr("._-/:", c))
			return "has a character docker does not take";
	}
	if (s[repo_len] == ':' && !*tag)
		return "has an empty tag";
	for (const char *t = tag; *t; t++)
		if (!isalnum((unsigned char)*t) && !strchr("._-", *t))
			return "has a character docker does not take in its tag";
	return NULL;
}

/* An existing image: NAME[:TAG][@ALGORITHM:HEX], NAME and TAG as an image of the stack takes. */
const char *bad_reference(const char *s)
{
	const char *at = strchr(s, '@');
	if (!at)
		return bad_image_name(s);
	const char *colon = strchr(at, ':');
	if (!colon || colon == at + 1 || !colon[1] ||
	    strspn(colon + 1, "0123456789abcdef") != strlen(colon + 1))
		return "has a digest that is not @ALGORITHM:HEX (like @sha256:...)";
	for (const char *p = at + 1; p < colon; p++)
		if (!is_alnum(*p) && !strchr("+._-", *p))
			return "has a character docker does not take in its digest";
	char *name = xstrndup(s, (size_t)(at - s));
	const char *why = bad_image_name(name);
	free(name);
	return why;
}

bool valid_env_name(const char *s)
{
	if (!*s || (*s >= '0' && *s <= '9'))
		return false;
	for (; *s; s++)
		if (!is_alnum(*s) && *s != '_')
			return false;
	return true;
}

bool valid_label_name(const char *s)
{
	return only_chars(s, "._/-");
}

bool valid_port(const char *s)
{
	char *end;
	errno = 0;
	long p = strtol(s, &end, 10);
	if (end == s || !isdigit((unsigned char)*s) || errno || p < 1 || p > 65535)
		return false;
	return !*end || !strcmp(end, "/tcp") || !strcmp(end, "/udp") || !strcmp(end, "/sctp");
}

/* USER NAME[:GROUP], each a user name or a number. */
static bool valid_user_part(const char *s, size_t n)
{
	if (!n || s[0] == '-' || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_alnum(s[i]) && !strchr("._-", s[i]))
			return false;
	return true;
}

bool valid_user(const char *s)
{
	const char *colon = strchr(s, ':');
	if (!colon)
		return valid_user_part(s, strlen(s));
	return valid_user_part(s, (size_t)(colon - s)) &&
	       valid_user_part(colon + 1, strlen(colon + 1));
}

bool valid_entry_name(const char *s)
{
	return valid_name(s) && only_chars(s, "._-@+");
}

/* "8080", "80/udp", "8080:80", "8080:80/tcp": published (optional) and container port. */
bool valid_published_port(const char *s)
{
	const char *colon = strchr(s, ':');
	if (!colon)
		return valid_port(s);
	char *host = xstrndup(s, (size_t)(colon - s));
	bool ok = strchr(host, '/') == NULL && valid_port(host) && valid_port(colon + 1);
	free(host);
	return ok;
}

/* "NAME:/path", "/host/path:/path", either with ":ro". */
bool valid_mount(const char *s)
{
	const char *colon = strchr(s, ':');
	if (!colon || colon == s || colon[1] != '/')
		return false;
	/* a named volume's name is written bare as a key of the compose file's `volumes:` */
	char *source = xstrndup(s, (size_t)(colon - s));
	bool named = !strchr("/.~", source[0]);
	bool ok = !named || only_chars(source, "_.-");
	free(source);
	if (!ok)
		return false;
	const char *mode = strchr(colon + 1, ':');
	return !mode || strcmp(mode, ":ro") == 0 || strcmp(mode, ":rw") == 0;
}

/* A Kubernetes quantity, the forms a stack needs: "2", "0.5", "500m", "256Mi", "1G". */
bool valid_quantity(const char *s)
{
	static const char *const suffixes[] = {"", "m", "k", "M", "G", "T", "Ki", "Mi", "Gi", "Ti"};
	size_t n = strspn(s, "0123456789");
	if (!n || n > 12)
		return false;
	if (s[n] == '.') {
		size_t f = strspn(s + n + 1, "0123456789");
		if (!f || f > 6)
			return false;
		n += 1 + f;
	}
	for (size_t i = 0; i < ARRAY_SIZE(suffixes); i++)
		if (strcmp(s + n, suffixes[i]) == 0)
			return true;
	return false;
}

bool valid_capability(const char *s)
{
	return *s && strlen(s) <= 32 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") == strlen(s) &&
	       strncmp(s, "CAP_", 4) != 0;
}
