/*
 * jsonbody: see jsonbody.h.
 */
#include "jsonbody.h"

#include <stdio.h>

json_t *
jsonbody_object(const char *body, size_t len, char *err, size_t errsize)
{
	json_error_t je;
	json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);

	if (root == NULL) {
		snprintf(err, errsize, "malformed JSON at line %d column %d: %s", je.line, je.column,
			 je.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		snprintf(err, errsize, "the body must be a JSON object");
		return NULL;
	}
	return root;
}
