package db_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/conduit-dev/conduit/conduit"
	"github.com/conduit-dev/conduit/db/dbtest"
)

var taken = []string{"has already been taken"}

func TestCreateUser(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	ctx := context.Background()
	existing := mustCreateUser(t, d, "jake")

	t.Run("OK", func(t *testing.T) {
		before := time.Now().Add(-time.Second)
		u, err := d.CreateUser(ctx, conduit.User{Username: "Anna", Email: "Anna@Example.com", PasswordHash: "h", Bio: ptr("hi")})
		if err != nil {
			t.Fatal(err)
		}
		if u.ID == 0 || u.ID == existing.ID {
			t.Errorf("ID = %d, want a new id", u.ID)
		}
		if u.Username != "Anna" || u.Email != "Anna@Example.com" || u.PasswordHash != "h" {
			t.Errorf("user = %+v, want the values given", u)
		}
		if u.Bio == nil || *u.Bio != "hi" || u.Image != nil {
			t.Errorf("bio, image = %v, %v, want hi, nil", u.Bio, u.Image)
		}
		if u.CreatedAt.Location() != time.UTC || u.UpdatedAt.Location() != time.UTC {
			t.Errorf("times in %v, want UTC", u.CreatedAt.Location())
		}
		if u.CreatedAt.Before(before) || !u.UpdatedAt.Equal(u.CreatedAt) {
			t.Errorf("createdAt, updatedAt = %v, %v, want now, twice", u.CreatedAt, u.UpdatedAt)
		}
	})
	t.Run("ErrUsernameTaken", func(t *testing.T) {
		_, err := d.CreateUser(ctx, conduit.User{Username: "jake", Email: "other@example.com", PasswordHash: "h"})
		wantError(t, err, conduit.Conflict, map[string][]string{"username": taken})
	})
	t.Run("ErrEmailTaken", func(t *testing.T) {
		_, err := d.CreateUser(ctx, conduit.User{Username: "other", Email: "JAKE@example.COM", PasswordHash: "h"})
		wantError(t, err, conduit.Conflict, map[string][]string{"email": taken})
	})
	t.Run("ErrBothTaken", func(t *testing.T) {
		_, err := d.CreateUser(ctx, conduit.User{Username: "jake", Email: "jake@example.com", PasswordHash: "h"})
		wantError(t, err, conduit.Conflict, map[string][]string{"email": taken, "username": taken})
	})
	t.Run("ErrUsernameFolded", func(t *testing.T) {
		// One name whatever its case or Unicode form (conduit.UsernameKey).
		for _, name := range []string{"Jake", "JAKE", "ｊａｋｅ"} {
			_, err := d.CreateUser(ctx, conduit.User{Username: name, Email: name + "2@example.com", PasswordHash: "h"})
			wantError(t, err, conduit.Conflict, map[string][]string{"username": taken})
		}
	})
}

// TestUsernameFoldedRace: the unique index on the folded key, not only the
// check before the insert, keeps two spellings of one name apart.
func TestUsernameFoldedRace(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	names := []string{"mia", "MIA", "Mia", "ｍｉａ", "mIa", "miA"}
	errs := make(chan error, len(names))
	for i, name := range names {
		go func() {
			_, err := d.CreateUser(context.Background(), conduit.User{Username: name, Email: fmt.Sprintf("mia%d@example.com", i), PasswordHash: "h"})
			errs <- err
		}()
	}
	created := 0
	for range names {
		switch err := <-errs; conduit.ErrorCode(err) {
		case "":
			created++
		case conduit.Conflict:
		default:
			t.Errorf("CreateUser = %v, want success or Conflict", err)
		}
	}
	if created != 1 {
		t.Fatalf("%d accounts for one name, want 1", created)
	}
}

func TestCreateUserRace(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	// Both pass the check before either inserts; the unique constraint
	// settles it and the loser still gets a Conflict, not an Internal error.
	const n = 8
	errs := make(chan error, n)
	for range n {
		go func() {
			_, err := d.CreateUser(context.Background(), conduit.User{Username: "same", Email: "same@example.com", PasswordHash: "h"})
			errs <- err
		}()
	}
	ok := 0
	for range n {
		err := <-errs
		switch conduit.ErrorCode(err) {
		case "":
			ok++
		case conduit.Conflict:
		default:
			t.Errorf("CreateUser = %v, want success or Conflict", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d creations succeeded, want 1", ok)
	}
}

func TestUserLookups(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	ctx := context.Background()
	jake := mustCreateUser(t, d, "jake")

	t.Run("ByIDOK", func(t *testing.T) {
		u, err := d.UserByID(ctx, jake.ID)
		if err != nil {
			t.Fatal(err)
		}
		if u != jake {
			t.Errorf("UserByID = %+v, want %+v", u, jake)
		}
	})
	t.Run("ByIDErrNotFound", func(t *testing.T) {
		_, err := d.UserByID(ctx, jake.ID+100)
		wantError(t, err, conduit.NotFound, map[string][]string{conduit.NoField: {"user not found"}})
	})
	t.Run("ByEmailOK", func(t *testing.T) {
		u, err := d.UserByEmail(ctx, "JAKE@EXAMPLE.com")
		if err != nil {
			t.Fatal(err)
		}
		if u.ID != jake.ID {
			t.Errorf("UserByEmail id = %d, want %d", u.ID, jake.ID)
		}
	})
	t.Run("ByEmailErrNotFound", func(t *testing.T) {
		_, err := d.UserByEmail(ctx, "nobody@example.com")
		wantError(t, err, conduit.NotFound, nil)
	})
}

func TestUpdateUser(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	ctx := context.Background()
	jake := mustCreateUser(t, d, "jake")
	mustCreateUser(t, d, "anna")

	t.Run("OK", func(t *testing.T) {
		time.Sleep(2 * time.Millisecond) // updated_at has millisecond precision
		u, err := d.UpdateUser(ctx, jake.ID, conduit.UserChanges{
			Username:     conduit.Some("jacob"),
			Email:        conduit.Some("Jacob@example.com"),
			PasswordHash: conduit.Some("new-hash"),
			Bio:          conduit.Some(ptr("I work at statefarm")),
			Image:        conduit.Some(ptr("https://example.com/j.png")),
		})
		if err != nil {
			t.Fatal(err)
		}
		if u.Username != "jacob" || u.Email != "Jacob@example.com" || u.PasswordHash != "new-hash" ||
			*u.Bio != "I work at statefarm" || *u.Image != "https://example.com/j.png" {
			t.Errorf("user = %+v, want every field changed", u)
		}
		if !u.UpdatedAt.After(jake.UpdatedAt) || !u.CreatedAt.Equal(jake.CreatedAt) {
			t.Errorf("createdAt, updatedAt = %v, %v, want %v and later", u.CreatedAt, u.UpdatedAt, jake.CreatedAt)
		}
	})
	t.Run("OwnValuesNoClash", func(t *testing.T) {
		u, err := d.UpdateUser(ctx, jake.ID, conduit.UserChanges{Username: conduit.Some("jacob"), Email: conduit.Some("JACOB@example.com")})
		if err != nil {
			t.Fatalf("UpdateUser with own username and email: %v", err)
		}
		if u.Email != "JACOB@example.com" {
			t.Errorf("email = %q, want the new spelling", u.Email)
		}
	})
	t.Run("ClearBio", func(t *testing.T) {
		u, err := d.UpdateUser(ctx, jake.ID, conduit.UserChanges{Bio: conduit.Some[*string](nil)})
		if err != nil {
			t.Fatal(err)
		}
		if u.Bio != nil || u.Image == nil {
			t.Errorf("bio, image = %v, %v, want nil and unchanged", u.Bio, u.Image)
		}
	})
	t.Run("NothingSet", func(t *testing.T) {
		before, _ := d.UserByID(ctx, jake.ID)
		u, err := d.UpdateUser(ctx, jake.ID, conduit.UserChanges{})
		if err != nil {
			t.Fatal(err)
		}
		if u.Username != before.Username || u.Email != before.Email || u.UpdatedAt.Before(before.UpdatedAt) {
			t.Errorf("user = %+v, want %+v with UpdatedAt not earlier", u, before)
		}
	})
	t.Run("ErrBothTaken", func(t *testing.T) {
		_, err := d.UpdateUser(ctx, jake.ID, conduit.UserChanges{Username: conduit.Some("anna"), Email: conduit.Some("ANNA@example.com")})
		wantError(t, err, conduit.Conflict, map[string][]string{"email": taken, "username": taken})
		u, _ := d.UserByID(ctx, jake.ID)
		if u.Username != "jacob" {
			t.Errorf("username = %q after a conflict, want jacob", u.Username)
		}
	})
	t.Run("ErrEmailTaken", func(t *testing.T) {
		_, err := d.UpdateUser(ctx, jake.ID, conduit.UserChanges{Email: conduit.Some("anna@example.com")})
		wantError(t, err, conduit.Conflict, map[string][]string{"email": taken})
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := d.UpdateUser(ctx, jake.ID+100, conduit.UserChanges{Bio: conduit.Some(ptr("x"))})
		wantError(t, err, conduit.NotFound, map[string][]string{conduit.NoField: {"user not found"}})
	})
}

func TestProfiles(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	ctx := context.Background()
	jake := mustCreateUser(t, d, "jake")
	anna := mustCreateUser(t, d, "anna")

	following := func(t *testing.T, viewerID int64) bool {
		t.Helper()
		p, err := d.ProfileByUsername(ctx, viewerID, "jake")
		if err != nil {
			t.Fatal(err)
		}
		if p.ID != jake.ID || p.Username != "jake" || p.Bio != nil || p.Image != nil {
			t.Fatalf("profile = %+v, want jake's", p)
		}
		return p.Following
	}
	t.Run("Anonymous", func(t *testing.T) {
		if following(t, 0) {
			t.Error("following = true for an anonymous viewer")
		}
	})
	t.Run("Follow", func(t *testing.T) {
		mustFollow(t, d, anna.ID, jake.ID)
		mustFollow(t, d, anna.ID, jake.ID) // twice is no error
		if !following(t, anna.ID) {
			t.Error("following = false after Follow")
		}
		if following(t, jake.ID) {
			t.Error("jake follows himself")
		}
		if following(t, 0) {
			t.Error("following = true for an anonymous viewer")
		}
	})
	t.Run("Unfollow", func(t *testing.T) {
		for range 2 { // twice is no error
			if err := d.Unfollow(ctx, anna.ID, jake.ID); err != nil {
				t.Fatal(err)
			}
		}
		if following(t, anna.ID) {
			t.Error("following = true after Unfollow")
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := d.ProfileByUsername(ctx, 0, "nobody")
		wantError(t, err, conduit.NotFound, map[string][]string{conduit.NoField: {"profile not found"}})
	})
	t.Run("ByID", func(t *testing.T) {
		mustFollow(t, d, anna.ID, jake.ID)
		ps, err := d.ProfilesByID(ctx, anna.ID, []int64{jake.ID, anna.ID, anna.ID + 100})
		if err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(ps, func(a, b conduit.Profile) int { return int(a.ID - b.ID) })
		want := []conduit.Profile{
			{ID: jake.ID, Username: "jake", Following: true},
			{ID: anna.ID, Username: "anna"},
		}
		if !slices.Equal(ps, want) {
			t.Errorf("ProfilesByID = %+v, want %+v", ps, want)
		}
	})
	t.Run("ByIDNone", func(t *testing.T) {
		ps, err := d.ProfilesByID(ctx, 0, nil)
		if err != nil || ps == nil || len(ps) != 0 {
			t.Errorf("ProfilesByID(nil) = %v, %v, want an empty slice", ps, err)
		}
	})
}

func TestFollowersAmong(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	ctx := context.Background()
	jake := mustCreateUser(t, d, "jake")
	anna := mustCreateUser(t, d, "anna")
	bob := mustCreateUser(t, d, "bob")
	carl := mustCreateUser(t, d, "carl")
	mustFollow(t, d, anna.ID, jake.ID)
	mustFollow(t, d, carl.ID, jake.ID)
	mustFollow(t, d, bob.ID, anna.ID) // follows someone else

	for _, tc := range []struct {
		name       string
		author     int64
		candidates []int64
		want       []int64
	}{
		{"OK", jake.ID, []int64{carl.ID, bob.ID, anna.ID, jake.ID}, []int64{anna.ID, carl.ID}},
		{"SomeCandidates", jake.ID, []int64{carl.ID, bob.ID}, []int64{carl.ID}},
		{"UnknownCandidates", jake.ID, []int64{carl.ID + 100}, []int64{}},
		{"NoFollowers", bob.ID, []int64{jake.ID, anna.ID, carl.ID}, []int64{}},
		{"NoCandidates", jake.ID, nil, []int64{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := d.FollowersAmong(ctx, tc.author, tc.candidates)
			if err != nil {
				t.Fatal(err)
			}
			if got == nil || !slices.Equal(got, tc.want) {
				t.Fatalf("FollowersAmong(%d, %v) = %#v, want %#v", tc.author, tc.candidates, got, tc.want)
			}
		})
	}
}
