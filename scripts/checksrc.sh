#!/bin/sh
# Fails when a banned function is used in the project's own C code.
set -eu
banned='\b(strcpy|strcat|sprintf|vsprintf|gets|strtok|atoi|atol|sscanf)[[:space:]]*\('
if grep -nE "$banned" lib/*.c lib/*.h manager/*.c manager/*.h agent/*.c agent/*.h cli/*.c \
	tests/unit/*.c tests/fuzz/*.c 2>/dev/null | grep -vE '^\S+:[0-9]+:\s*(/\*|\*)'; then
	echo "checksrc: banned functions used (see STYLE.md rule 11)" >&2
	exit 1
fi
echo "checksrc: ok"
