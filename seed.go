package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/conduit-dev/conduit/conduit"
)

// demoPassword is the password of every demo account.
const demoPassword = "conduit-demo"

type demoArticle struct {
	author, title, description, body string
	tags                             []string
	comments                         [][2]string // author, body
	favoritedBy                      []string
}

var demoUsers = []string{"ada", "grace", "linus", "barbara"}

var demoFollows = [][2]string{{"ada", "grace"}, {"ada", "linus"}, {"grace", "barbara"}, {"linus", "ada"}, {"barbara", "ada"}}

var demoArticles = []demoArticle{
	{"ada", "Notes on the Analytical Engine", "What a machine that weaves algebra can do",
		"The engine might act upon other things besides number.", []string{"history", "computing"},
		[][2]string{{"grace", "Still the best description of a general-purpose computer."}}, []string{"grace", "linus"}},
	{"grace", "Why I wrote a compiler", "Programs should read like English",
		"Nobody believed that I had a running compiler and nobody would touch it.", []string{"compilers", "history"},
		[][2]string{{"ada", "And now everyone writes in languages like that."}, {"barbara", "The nanosecond wire helped me too."}}, []string{"ada"}},
	{"linus", "Just a hobby", "Won't be big and professional",
		"I'm doing a (free) operating system, just a hobby.", []string{"kernels", "open-source"},
		nil, []string{"ada", "grace", "barbara"}},
	{"barbara", "Abstraction and data types", "Substitution matters",
		"What is wanted is something like the following substitution property.", []string{"types", "computing"},
		[][2]string{{"linus", "Liskov substitution saved many a codebase."}}, nil},
	{"ada", "Bernoulli numbers by machine", "Note G, explained",
		"Here follows a table of the operations for computing the Bernoulli numbers.", []string{"computing", "mathematics"},
		nil, []string{"barbara"}},
}

// seed loads the demo data through the service, so it obeys every rule.
// Running it again changes nothing.
func seed(ctx context.Context, svc *conduit.Service, logger *slog.Logger) error {
	ids := map[string]int64{}
	for _, name := range demoUsers {
		email := name + "@example.com"
		s, err := svc.Register(ctx, conduit.RegisterInput{Username: name, Email: email, Password: demoPassword})
		if conduit.ErrorCode(err) == conduit.Conflict {
			s, err = svc.Login(ctx, conduit.LoginInput{Email: email, Password: demoPassword})
		}
		if err != nil {
			return fmt.Errorf("seed user %s: %w", name, err)
		}
		ids[name] = s.User.ID
	}
	as := func(name string) context.Context {
		return conduit.NewContextWithViewer(ctx, conduit.Viewer{UserID: ids[name]})
	}
	for _, f := range demoFollows {
		if _, err := svc.Follow(as(f[0]), f[1]); err != nil {
			return fmt.Errorf("seed follow %s -> %s: %w", f[0], f[1], err)
		}
	}
	created := 0
	for _, d := range demoArticles {
		slug, err := existingArticle(ctx, svc, d.author, d.title)
		if err != nil {
			return err
		}
		if slug == "" {
			a, err := svc.CreateArticle(as(d.author), conduit.CreateArticleInput{
				Title: d.title, Description: d.description, Body: d.body, TagList: d.tags,
			})
			if err != nil {
				return fmt.Errorf("seed article %q: %w", d.title, err)
			}
			slug = a.Slug
			created++
			for _, c := range d.comments {
				if _, err := svc.AddComment(as(c[0]), slug, c[1]); err != nil {
					return fmt.Errorf("seed comment on %q: %w", d.title, err)
				}
			}
		}
		for _, fan := range d.favoritedBy {
			if _, err := svc.Favorite(as(fan), slug); err != nil {
				return fmt.Errorf("seed favorite of %q: %w", d.title, err)
			}
		}
	}
	logger.Info("seeded demo data", slog.Int("users", len(demoUsers)), slog.Int("new_articles", created),
		slog.String("example_login", demoUsers[0]+"@example.com"))
	return nil
}

// existingArticle returns the slug of author's article with the title, or "".
func existingArticle(ctx context.Context, svc *conduit.Service, author, title string) (string, error) {
	page, err := svc.Articles(ctx, conduit.ArticleFilter{Author: author}, conduit.Page{Limit: conduit.MaxPageSize})
	if err != nil {
		return "", fmt.Errorf("seed: list articles of %s: %w", author, err)
	}
	for _, a := range page.Articles {
		if a.Title == title {
			return a.Slug, nil
		}
	}
	return "", nil
}
