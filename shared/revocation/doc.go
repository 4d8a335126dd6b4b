// Package revocation is the contract between the auth server, which emits
// revocation events, and the gateways, which apply them: the JSON wire form
// of an event and of a feed page, the Redis key and channel layout, and Set,
// the in-memory revocation set a gateway consults on every request. Events
// only ever add to a set and entries only ever leave it by expiring, so
// applying an event twice, out of order, or from two sources is harmless;
// that property is what lets a gateway reload everything after a reconnect
// without coordinating with the emitter.
package revocation
