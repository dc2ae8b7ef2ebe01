package sandbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/clerk/clerk-sdk-go/v2/user"

	"github.com/userimport/userimport/clerk/sandbox"
)

func (e *env) sdk(key string) *user.Client {
	url := e.base
	return user.NewClient(&clerk.ClientConfig{BackendConfig: clerk.BackendConfig{
		URL: &url, Key: &key, HTTPClient: e.http}})
}

func ptr[T any](v T) *T { return &v }

// The official Go SDK works unchanged against the sandbox, and every exchange matches the spec.
func TestSDKRoundTrip(t *testing.T) {
	e := newEnv(t, sandbox.Options{}, checkAll)
	c := e.sdk(testKey)
	ctx := context.Background()
	md := json.RawMessage(`{"tier":"gold"}`)
	created, err := c.Create(ctx, &user.CreateParams{
		EmailAddresses: &[]string{"grace@example.com"}, ExternalID: ptr("-leading-dash"),
		FirstName: ptr("Grace"), Password: ptr("correct horse battery"), PublicMetadata: &md,
		CreatedAt: ptr("2019-05-06T07:08:09Z"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if created.ExternalID == nil || *created.ExternalID != "-leading-dash" || !created.PasswordEnabled ||
		created.PrimaryEmailAddressID == nil || len(created.EmailAddresses) != 1 ||
		created.EmailAddresses[0].ID != *created.PrimaryEmailAddressID || created.CreatedAt != 1557126489000 {
		t.Errorf("created user: %+v", created)
	}
	for i, em := range []string{"h1@example.com", "h2@example.com"} {
		if _, err := c.Create(ctx, &user.CreateParams{EmailAddresses: &[]string{em}, ExternalID: ptr("h" + string(rune('1'+i)))}); err != nil {
			t.Fatal(err)
		}
	}

	got, err := c.Get(ctx, created.ID)
	if err != nil || got.ID != created.ID || got.FirstName == nil || *got.FirstName != "Grace" {
		t.Fatalf("get: %+v %v", got, err)
	}

	// "+" marks inclusion so an id starting with "-" is not read as an exclusion.
	list, err := c.List(ctx, &user.ListParams{ExternalIDs: []string{"+-leading-dash", "+missing"}})
	if err != nil || len(list.Users) != 1 || list.Users[0].ID != created.ID || list.TotalCount != 1 {
		t.Fatalf("list by external_id: %+v %v", list, err)
	}
	list, err = c.List(ctx, &user.ListParams{ExternalIDs: []string{"--leading-dash"}})
	if err != nil || len(list.Users) != 2 || list.TotalCount != 2 {
		t.Fatalf("list excluding: %+v %v", list, err)
	}
	list, err = c.List(ctx, &user.ListParams{EmailAddresses: []string{"GRACE@example.com"}})
	if err != nil || len(list.Users) != 1 {
		t.Fatalf("list by email (case-insensitive): %+v %v", list, err)
	}

	del, err := c.Delete(ctx, created.ID)
	if err != nil || !del.Deleted || del.ID != created.ID {
		t.Fatalf("delete: %+v %v", del, err)
	}
	_, err = c.Get(ctx, created.ID)
	var apiErr *clerk.APIErrorResponse
	if !errors.As(err, &apiErr) || apiErr.HTTPStatusCode != 404 || apiErr.Errors[0].Code != "resource_not_found" {
		t.Fatalf("get after delete: %v", err)
	}
	if _, err = c.Delete(ctx, created.ID); !errors.As(err, &apiErr) || apiErr.HTTPStatusCode != 404 {
		t.Fatalf("second delete: %v", err)
	}

	// A refused create surfaces as Clerk's typed error, param included.
	_, err = c.Create(ctx, &user.CreateParams{EmailAddresses: &[]string{"h1@EXAMPLE.com"}})
	if !errors.As(err, &apiErr) || apiErr.HTTPStatusCode != 422 || apiErr.Errors[0].Code != "form_identifier_exists" ||
		apiErr.Errors[0].Meta == nil {
		t.Fatalf("duplicate email: %v", err)
	}
	var meta struct {
		ParamName string `json:"param_name"`
	}
	if err := json.Unmarshal(apiErr.Errors[0].Meta, &meta); err != nil || meta.ParamName != "email_address" {
		t.Errorf("meta %s", apiErr.Errors[0].Meta)
	}
	if apiErr.TraceID == "" {
		t.Error("no clerk_trace_id")
	}

	st := e.srv.Stats()
	if st.Creates != 4 || st.Created != 3 || st.Deletes != 2 || st.Users != 2 || st.Lists != 6 {
		t.Errorf("stats %+v", st)
	}
}

func TestSDKWrongKey(t *testing.T) {
	e := newEnv(t, sandbox.Options{Key: "sk_live_right"}, checkAll)
	_, err := e.sdk("sk_live_wrong").Get(context.Background(), "user_x")
	var apiErr *clerk.APIErrorResponse
	if !errors.As(err, &apiErr) || apiErr.HTTPStatusCode != 401 || apiErr.Errors[0].Code != "authentication_invalid" {
		t.Fatalf("wrong key: %v", err)
	}
	if _, err := e.sdk("sk_live_right").List(context.Background(), &user.ListParams{}); err != nil {
		t.Fatalf("right key: %v", err)
	}
}
