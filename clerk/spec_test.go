package clerk

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/userimport/userimport/clerk/sandbox/spectest"
)

// specPath is Clerk's spec beside the repository (../shared/clerk); the test skips without it.
func specPath(t *testing.T) string {
	t.Helper()
	p, ok := spectest.SpecPath()
	if !ok {
		if os.Getenv("CI") == "true" { // CI has ../shared beside the clone: a missing spec is a failure there
			t.Fatal("Clerk's OpenAPI spec (../shared/clerk/bapi-2025-04-10.yml) is not beside the repository")
		}
		t.Skip("Clerk's OpenAPI spec (../shared/clerk/bapi-2025-04-10.yml) is not beside the repository")
	}
	return p
}

// TestRequestsConformToClerkSpec holds every request the client sends to Clerk's published
// OpenAPI spec (the create body has additionalProperties: false, so an extra field fails).
func TestRequestsConformToClerkSpec(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromFile(specPath(t))
	if err != nil {
		t.Fatalf("load spec: %v", err)
	}
	doc.Servers = openapi3.Servers{{URL: "/v1"}}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("router: %v", err)
	}

	var mu sync.Mutex
	var ops []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route, params, err := router.FindRoute(r)
		if err != nil {
			t.Errorf("%s %s: no route in the spec: %v", r.Method, r.URL, err)
			w.WriteHeader(404)
			return
		}
		in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			t.Errorf("%s: request violates the spec: %v", route.Operation.OperationID, err)
		}
		mu.Lock()
		ops = append(ops, route.Operation.OperationID)
		mu.Unlock()
		switch route.Operation.OperationID {
		case "CreateUser":
			fmt.Fprint(w, `{"id":"user_1"}`)
		case "GetUserList":
			fmt.Fprint(w, `[]`)
		case "DeleteUser":
			fmt.Fprint(w, `{"id":"user_1","object":"user","deleted":true}`)
		case "GetUsersCount":
			fmt.Fprint(w, `{"object":"total_count","total_count":0}`)
		default:
			w.WriteHeader(404)
		}
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, 10*time.Second)
	ctx := context.Background()

	if _, err := c.Create(ctx, fullParams()); err != nil {
		t.Errorf("Create: %v", err)
	}
	if _, err := c.FindByExternalID(ctx, []string{"a", "-b"}); err != nil {
		t.Errorf("FindByExternalID: %v", err)
	}
	if _, _, err := c.FindByEmail(ctx, "ada@example.com"); err != nil {
		t.Errorf("FindByEmail: %v", err)
	}
	if err := c.Delete(ctx, "user_1"); err != nil {
		t.Errorf("Delete: %v", err)
	}
	if _, err := c.Count(ctx); err != nil {
		t.Errorf("Count: %v", err)
	}
	for _, after := range []string{"", "user_2abc"} { // ListUsers' first page and a cursor page
		if _, err := c.ListUsers(ctx, after, PageSize); err != nil {
			t.Errorf("ListUsers(%q): %v", after, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if got, want := strings.Join(ops, ","), "CreateUser,GetUserList,GetUserList,DeleteUser,GetUsersCount,GetUserList,GetUserList"; got != want {
		t.Errorf("operations = %s, want %s", got, want)
	}
}
