package main

import (
	"context"
	"fmt"

	"github.com/conduit-dev/conduit/conduit"
)

// seed writes the dataset through the service, as users would, in
// parallel: users, articles, comments, favorites, follows, and last the
// writer account that marks the seed as finished. Contents are fixed by
// the seed; ids and timestamps follow the order the workers happen to
// commit in.
func (d *benchData) seed(ctx context.Context, log *progress) error {
	set := d.set
	ids := make([]int64, len(set.users))
	steps := []struct {
		what string
		n    int
		f    func(ctx context.Context, i int) error
	}{
		{"users", len(set.users), func(ctx context.Context, i int) error {
			id, err := d.seedUser(ctx, set.users[i])
			ids[i] = id
			return err
		}},
		{"articles", len(set.articles), func(ctx context.Context, i int) error {
			return d.seedArticle(ctx, ids, set.articles[i])
		}},
		{"comments", len(set.comments), func(ctx context.Context, i int) error {
			c := set.comments[i]
			_, err := d.svc.AddComment(as(ctx, ids[c.author]), set.articles[c.article].slug(), c.body)
			return err
		}},
		{"favorites", len(set.favorites), func(ctx context.Context, i int) error {
			f := set.favorites[i]
			_, err := d.svc.Favorite(as(ctx, ids[f.a]), set.articles[f.b].slug())
			return err
		}},
		{"follows", len(set.follows), func(ctx context.Context, i int) error {
			f := set.follows[i]
			_, err := d.svc.Follow(as(ctx, ids[f.a]), set.users[f.b].username)
			return err
		}},
		{"the writer", 1, func(ctx context.Context, _ int) error {
			_, err := d.seedUser(ctx, seedUser{username: set.writerName(), email: set.writerName() + "@bench.example"})
			return err
		}},
	}
	for _, s := range steps {
		log.step("seeding %d %s", s.n, s.what)
		if err := parallel(ctx, s.n, s.f); err != nil {
			return fmt.Errorf("seed %s: %w", s.what, err)
		}
	}
	return nil
}

// seedUser registers u and sets the bio and image it has.
func (d *benchData) seedUser(ctx context.Context, u seedUser) (int64, error) {
	s, err := d.svc.Register(ctx, conduit.RegisterInput{Username: u.username, Email: u.email, Password: seedPassword})
	if err != nil {
		return 0, fmt.Errorf("register %s: %w", u.username, err)
	}
	if u.bio == nil && u.image == nil {
		return s.User.ID, nil
	}
	_, err = d.svc.UpdateUser(as(ctx, s.User.ID), conduit.UpdateUserInput{
		Bio: conduit.Some(u.bio), Image: conduit.Some(u.image),
	})
	if err != nil {
		return 0, fmt.Errorf("update %s: %w", u.username, err)
	}
	return s.User.ID, nil
}

// seedArticle publishes a and checks that it got the slug the scenarios
// will ask for.
func (d *benchData) seedArticle(ctx context.Context, ids []int64, a seedArticle) error {
	got, err := d.svc.CreateArticle(as(ctx, ids[a.author]), conduit.CreateArticleInput{
		Title: a.title, Description: a.description, Body: a.body, TagList: a.tags,
	})
	if err != nil {
		return fmt.Errorf("create %q: %w", a.title, err)
	}
	if want := a.slug(); got.Slug != want {
		return fmt.Errorf("create %q: slug %q, want %q (are two titles alike?)", a.title, got.Slug, want)
	}
	return nil
}
