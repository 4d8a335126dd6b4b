package tokencache_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/portcullis/portcullis/gateway/internal/tokencache"
)

func TestCacheHitMissExpiry(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	c := tokencache.New[int](16)
	c.Put("tok-a", now.Add(time.Minute), now, 1)
	if v, ok := c.Get("tok-a", now); !ok || v != 1 {
		t.Fatalf("hit: %v %v", v, ok)
	}
	if _, ok := c.Get("tok-b", now); ok {
		t.Fatal("miss returned a value")
	}
	if _, ok := c.Get("tok-a", now.Add(time.Minute)); ok {
		t.Fatal("entry outlived its exp")
	}
	if _, ok := c.Get("tok-", now); ok {
		t.Fatal("prefix matched")
	}
}

func TestCacheIsBounded(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	c := tokencache.New[int](64)
	if c.Len() != 64 {
		t.Fatalf("len %d", c.Len())
	}
	for i := range 10_000 {
		c.Put(fmt.Sprint("tok-", i), now.Add(time.Hour), now, i)
	}
	hits := 0
	for i := range 10_000 {
		if v, ok := c.Get(fmt.Sprint("tok-", i), now); ok {
			if v != i {
				t.Fatalf("token %d returned value %d", i, v)
			}
			hits++
		}
	}
	if hits == 0 || hits > 64 {
		t.Fatalf("%d hits from a 64-slot cache", hits)
	}
}

func TestCacheGetDoesNotAllocate(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	c := tokencache.New[*int](1024)
	v := 7
	c.Put("eyJhbGciOiJFZERTQSJ9.payload.sig", now.Add(time.Hour), now, &v)
	allocs := testing.AllocsPerRun(1000, func() {
		if _, ok := c.Get("eyJhbGciOiJFZERTQSJ9.payload.sig", now); !ok {
			t.Fatal("miss")
		}
	})
	if allocs != 0 {
		t.Fatalf("Get allocates %.1f times", allocs)
	}
}
