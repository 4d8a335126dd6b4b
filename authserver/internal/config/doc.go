// Package config is the auth server's configuration: the YAML file schema
// (decoded strictly, so a misspelt key is an error rather than a silently
// ignored setting), the PORTCULLIS_* environment overlay applied over it,
// the defaults (all in Default), and Validate, which reports every problem
// at once and does no I/O: connectivity is checked at start-up and by
// /readyz, not here.
package config
