// Just enough JSON reading for config.json and safetensors headers: find a key's value.
#pragma once
#include <stddef.h>

// Returns a pointer to the value after `"key":` at or after json (whitespace skipped), or NULL.
const char *json_find(const char *json, const char *key);
// Copies the JSON string value at p (pointing at its opening quote) into out, unescaping
// \" \\ \n \t \/ (\u is kept literal). Returns the length, or -1 if not a string / too long.
long json_string(const char *p, char *out, size_t cap);
// Escapes s as a JSON string body (no surrounding quotes) into out. Returns length or -1.
long json_escape(const char *s, char *out, size_t cap);
