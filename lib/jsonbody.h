/*
 * jsonbody: the first step of every JSON body Vigil accepts: parse strictly
 * (duplicate keys refused) and require an object, with a sentence that says
 * where it went wrong.
 */
#ifndef VIGIL_JSONBODY_H
#define VIGIL_JSONBODY_H

#include <jansson.h>
#include <stddef.h>

/* The parsed object (caller owns it), or NULL with a sentence in err. */
json_t *jsonbody_object(const char *body, size_t len, char *err, size_t errsize);

#endif
