package clerk

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// Every secret shape is redacted wherever it sits in a message; ordinary words, ids, emails and
// error codes are kept, so a message stays useful.
func TestRedact(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"bcrypt", `password_digest "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy" is not valid`, `password_digest "[redacted]" is not valid`},
		{"bcrypt 2y cut short", "bad digest $2y$12$abc", "bad digest [redacted]"},
		{"argon2id", "refused $argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g end", "refused [redacted] end"},
		{"scrypt PHC", "digest $scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E", "digest [redacted]"},
		{"django pbkdf2", "invalid pbkdf2_sha256$260000$Ue4qJm9SJQ3Wp8dZ$Gq1dLk8u2Y3b4c5d6e7f8g9h0iJkLmNoPqRsTuVwXyZ= here", "invalid [redacted] here"},
		{"firebase scrypt", "hash lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==$42xEC+ixf3L2lw==$jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==$Bw==$8$14 rejected", "hash [redacted] rejected"},
		{"crypt sha512", "got $6$rounds=5000$saltsalt$hashhashhash", "got [redacted]"},
		{"md5 hex", "md5 5f4dcc3b5aa765d61d8327deb882cf99 refused", "md5 [redacted] refused"},
		{"sha256 hex", "sha256=5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8", "sha256=[redacted]"},
		{"base64 salt", "salt c29tZSBsb25nIHNhbHQgdmFsdWUgdGhhdCBpcyBzZWNyZXQxMjM0NQ== bad", "salt [redacted] bad"},
		{"secret key", "key sk_test_Zq9xLbVtR3mK8wPd2sYh6nFj4cGu7eAa is invalid", "key [redacted] is invalid"},
		{"live key", "sk_live_abc123", "[redacted]"},
		{"publishable key", "pk_test_Y2xlcmsuZXhhbXBsZS5jb20k", "[redacted]"},
		{"other sk key", "sk_4eC39HqLyjWDarjtT1zdp7dc", "[redacted]"},
		{"jwt", "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U expired", "token [redacted] expired"},
		{"bearer", "Authorization: Bearer abc.def-ghi", "Authorization: [redacted]"},
		{"totp-like base32 kept short", "code JBSWY3DPEHPK3PXP invalid", "code JBSWY3DPEHPK3PXP invalid"},
		{"awscognito", "awscognito#us-east-1_abc#client#bob", "[redacted]"},
		// What must survive.
		{"plain message", "That email address is taken. Please try another.", "That email address is taken. Please try another."},
		{"error code", "form_password_digest_invalid_code_for_this_instance_type", "form_password_digest_invalid_code_for_this_instance_type"},
		{"user id", "taken by user_2NNEqL2nrIRdJ194ndJqAHwEfxC", "taken by user_2NNEqL2nrIRdJ194ndJqAHwEfxC"},
		{"email and URL", "ada@example.com at https://api.clerk.com/v1/users", "ada@example.com at https://api.clerk.com/v1/users"},
		{"one dollar", "costs $5 per month", "costs $5 per month"},
		{"empty", "", ""},
	} {
		if got := Redact(tc.in); got != tc.want {
			t.Errorf("%s: Redact(%q)\n got %q\nwant %q", tc.name, tc.in, got, tc.want)
		}
	}
}

func TestDisplayURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://api.clerk.com/v1":                      "https://api.clerk.com/v1",
		"https://user:sk_test_secret@proxy.example/v1":  "https://proxy.example/v1",
		"https://proxy.example/v1?token=abc123&key=xyz": "https://proxy.example/v1",
		"https://proxy.example/v1#frag":                 "https://proxy.example/v1",
		"http://127.0.0.1:8080/v1/":                     "http://127.0.0.1:8080/v1/",
		"sk_test_Zq9xLbVtR3mK8wPd2sYh6nFj4cGu7eAa":      "[redacted]",
		"https://proxy.example/sk_live_abcdef/v1":       "https://proxy.example/[redacted]/v1",
		"::not a url?token=abc":                         "::not a url",
	} {
		if got := DisplayURL(in); got != want {
			t.Errorf("DisplayURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// A key where the URL belongs (the two settings swapped), or a token in the URL, is refused
// with a message that never holds it.
func TestNewNeverPrintsKeyShapedURL(t *testing.T) {
	for _, tc := range []struct {
		name, url, key, want string
	}{
		{"swapped", testKey, "https://api.clerk.com/v1", "swapped"},
		{"key as URL", testKey, testKey, "swapped"},
		{"token in query", "https://proxy.example/v1?token=" + testKey, testKey, "no query string"},
		{"user info", "https://me:" + testKey + "@proxy.example/v1", testKey, "must not hold credentials"},
		{"no host", "/v1/" + testKey, testKey, "has no host"},
		{"bad URL", "http://[::1" + testKey, testKey, "API URL"},
	} {
		_, err := New(Config{URL: tc.url, Key: tc.key})
		if err == nil {
			t.Errorf("%s: New accepted URL %q", tc.name, tc.url)
			continue
		}
		if msg := err.Error(); strings.Contains(msg, testKey) || strings.Contains(msg, "sk_test_") || !strings.Contains(msg, tc.want) {
			t.Errorf("%s: error %q: want it to say %q and hold no key", tc.name, msg, tc.want)
		}
	}
}

// A Clerk 422 that quotes the refused digest is kept without it, in Message and Error().
func TestServerMessageRedacted(t *testing.T) {
	const digest = "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		clerkError(w, 422, "form_password_digest_invalid_code", "password_digest", "password_digest "+digest+" is not a valid bcrypt hash")
	}))
	defer srv.Close()
	_, err := newTestClient(t, srv.URL, 5*time.Second).Create(context.Background(), fullParams())
	e := asError(t, err)
	_, _, _, msg := e.Details()
	for _, s := range []string{msg, e.Error()} {
		if strings.Contains(s, "$2a$") || strings.Contains(s, "N9qo8uLOickgx2ZMRZoMy") || !strings.Contains(s, "password_digest [redacted] is not a valid") {
			t.Errorf("message %q: want the digest redacted and the rest kept", s)
		}
	}
}
