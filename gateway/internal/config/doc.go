// Package config is the gateway's file schema: strict YAML decoding, the
// PORTCULLIS_* environment overlay, defaults applied in one place, and
// Validate, which reports every problem at once without any I/O. Compile
// turns a valid File into the resolved route table the gateway serves.
package config
