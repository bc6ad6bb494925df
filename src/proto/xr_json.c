#include "xr_json.h"

#include <string.h>

#include "json.h"

void xr_to_json(struct buf *b, const struct xr_value *v)
{
	if (!v) {
		buf_puts(b, "null");
		return;
	}
	switch (v->type) {
	case XR_INT:
		buf_printf(b, "%lld", v->u.i);
		break;
	case XR_BOOL:
		buf_puts(b, v->u.b ? "true" : "false");
		break;
	case XR_DOUBLE: {
		char num[64];
		xr_format_double(num, sizeof(num), v->u.d);
		buf_puts(b, num);
		break;
	}
	case XR_STRING:
	case XR_BASE64:
	case XR_DATETIME:
		json_string(b, v->u.str.ptr, v->u.str.len);
		break;
	case XR_ARRAY:
		buf_putc(b, '[');
		for (size_t i = 0; i < v->u.array.len; i++) {
			if (i)
				buf_putc(b, ',');
			xr_to_json(b, v->u.array.items[i]);
		}
		buf_putc(b, ']');
		break;
	case XR_STRUCT:
		buf_putc(b, '{');
		for (size_t i = 0; i < v->u.st.len; i++) {
			if (i)
				buf_putc(b, ',');
			json_string(b, v->u.st.members[i].name, strlen(v->u.st.members[i].name));
			buf_putc(b, ':');
			xr_to_json(b, v->u.st.members[i].value);
		}
		buf_putc(b, '}');
		break;
	default:
		buf_puts(b, "null");
	}
}

void xr_process_json(struct buf *b, const struct xr_value *info)
{
	const char *group = xr_member_str(info, "group", "");
	const char *name = xr_member_str(info, "name", "");
	buf_puts(b, "{\"namespec\":");
	if (strcmp(group, name) == 0) {
		json_string(b, name, strlen(name));
	} else {
		struct buf spec = {0};
		buf_printf(&spec, "%s:%s", group, name);
		json_string(b, spec.data ? spec.data : "", spec.len);
		buf_free(&spec);
	}
	for (size_t i = 0; info && info->type == XR_STRUCT && i < info->u.st.len; i++) {
		buf_putc(b, ',');
		json_string(b, info->u.st.members[i].name, strlen(info->u.st.members[i].name));
		buf_putc(b, ':');
		xr_to_json(b, info->u.st.members[i].value);
	}
	buf_putc(b, '}');
}
