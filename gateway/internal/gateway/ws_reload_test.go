package gateway_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/portcullis/portcullis/gateway/internal/config"
)

// A WebSocket (any Upgrade) is proxied, and the connection is closed when
// the token that opened it expires.
func TestUpgradeClosedWhenTokenExpires(t *testing.T) {
	e := newEnv(t, nil)
	c := e.issuer.Claims("alice")
	c["exp"] = e.clock.Now().Add(time.Second).Unix()
	tok := e.issuer.Sign(t, "", c)

	conn, err := net.Dial("tcp", strings.TrimPrefix(e.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = io.WriteString(conn, "GET /whoami HTTP/1.1\r\nHost: gw\r\nConnection: Upgrade\r\nUpgrade: echo\r\nAuthorization: Bearer "+tok+"\r\n\r\n")
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d", res.StatusCode)
	}
	_, _ = io.WriteString(conn, "ping")
	buf := make([]byte, 4)
	if _, err := io.ReadFull(br, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("echo %q %v", buf, err)
	}
	start := time.Now()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := br.ReadByte(); err == nil {
		t.Fatal("read data instead of a close")
	} else if ne := net.Error(nil); errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("the connection outlived its token")
	}
	if d := time.Since(start); d < 500*time.Millisecond {
		t.Fatalf("closed after %v, before the token expired", d)
	}
}

// An invalid config is refused whole and the running one keeps serving; a
// valid one is swapped in.
func TestApplyRefusesInvalidConfig(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.issuer.Token(t, "alice")
	bad := *e.cfg
	bad.Resources = append([]config.Resource{}, e.cfg.Resources...)
	bad.Resources = append(bad.Resources, config.Resource{Name: "dup", Path: "/whoami", Upstream: e.upstream, Access: "public"})
	if err := e.gw.Apply(&bad); err == nil {
		t.Fatal("conflicting config applied")
	}
	wantChallenge(t, get(t, e.url+"/whoami", ""), 401, "") // still the old, token-protected route
	wantStatus(t, get(t, e.url+"/whoami", tok), 200)

	good := *e.cfg
	good.Resources = append([]config.Resource{}, e.cfg.Resources...)
	good.Resources[1].Access = "public"
	if err := e.gw.Apply(&good); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, get(t, e.url+"/whoami", ""), 200)
	if m := string(get(t, e.url+"/metrics", "").body); !strings.Contains(m, `portcullis_gateway_config_reloads_total{result="refused"} 1`) ||
		!strings.Contains(m, `portcullis_gateway_config_reloads_total{result="applied"} 1`) {
		t.Fatalf("reload metrics:\n%s", grep(m, "reloads"))
	}
}
