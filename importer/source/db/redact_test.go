package db

import (
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"postgres://bob:s3cret@db.example.com:5432/app", "postgres://***@db.example.com:5432/app"},
		{"postgresql://bob@db.example.com/app", "postgresql://***@db.example.com/app"},
		{"postgres://bob:p@ss@w0rd@db.example.com/app?sslmode=require", "postgres://***@db.example.com/app?sslmode=require"},
		{"postgres://bob:pa/ss@db.example.com/app", "postgres://***@db.example.com/app"},
		{"postgres://db.example.com/app?user=bob&password=s3cret", "postgres://db.example.com/app?user=bob&password=***"},
		{"mysql://root:p@ss@127.0.0.1:3306/app", "mysql://***@127.0.0.1:3306/app"},
		{"mysql://root@/app?socket=/run/mysqld/mysqld.sock", "mysql://***@/app?socket=/run/mysqld/mysqld.sock"},
		{"sqlite:./app.db", "sqlite:./app.db"},
		{"postgres://host/db", "postgres://host/db"},
	} {
		if got := Redact(c.in); got != c.want {
			t.Errorf("Redact(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestIdentity(t *testing.T) {
	a := Identity("postgres://bob:one@db.example.com/app", "select * from users")
	b := Identity("postgres://bob:two@db.example.com/app", "select * from users")
	c := Identity("postgres://bob:one@db.example.com/app", "select * from users where x")
	if a != b {
		t.Errorf("a password change changed the identity: %q vs %q", a, b)
	}
	if a == c {
		t.Errorf("a different query kept the identity %q", a)
	}
	if !strings.HasPrefix(a, "postgres://bob@db.example.com/app query-sha256:") || strings.Contains(a, "one") {
		t.Errorf("Identity = %q: want the user kept and the password gone", a)
	}
	if got := Identity("postgres://bob:p@ss@h/db?password=x&sslmode=disable", "q"); strings.Contains(got, "ss@") || strings.Contains(got, "password") || !strings.Contains(got, "sslmode=disable") {
		t.Errorf("Identity = %q", got)
	}
}

func TestMySQLConfig(t *testing.T) {
	cfg, err := mysqlConfig("mysql://app:p@ss%2Fw@db.example.com/users?tls=true&sql_mode=ANSI", "")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.User != "app" || cfg.Passwd != "p@ss/w" || cfg.Addr != "db.example.com:3306" || cfg.Net != "tcp" || cfg.DBName != "users" ||
		cfg.TLSConfig != "true" || cfg.Params["sql_mode"] != "ANSI" || !cfg.ParseTime || cfg.Params["net_write_timeout"] != "86400" {
		t.Errorf("config %+v", cfg)
	}
	for _, raw := range []string{"mysql://app@/users?socket=/run/mysqld/mysqld.sock", "mysql://app@%2Frun%2Fmysqld%2Fmysqld.sock/users"} {
		cfg, err := mysqlConfig(raw, "from-file")
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Net != "unix" || cfg.Addr != "/run/mysqld/mysqld.sock" || cfg.Passwd != "from-file" || cfg.DBName != "users" {
			t.Errorf("%s: config %+v", raw, cfg)
		}
	}
}

func TestBoolName(t *testing.T) {
	for name, want := range map[string]bool{
		"emailVerified": true, "phoneNumberVerified": true, "isAnonymous": true, "is_sso_user": true, "banned": true,
		"twoFactorEnabled": true, "has_oauth_account": true, "issuer": false, "email": false, "age": false, "history": false,
	} {
		if got := boolName(name); got != want {
			t.Errorf("boolName(%q) = %v", name, got)
		}
	}
}
