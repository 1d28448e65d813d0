package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/streamforge/streamforge/libs/store"
)

// EnsureGraph creates the graph's vertex (document) and edge collections
// when missing and records the graph in _graphs. A graph of that name with
// other collections, or a collection of the wrong kind, is an error.
func (s *Store) EnsureGraph(ctx context.Context, g store.Graph) error {
	for _, n := range []string{g.Name, g.VertexCollection, g.EdgeCollection} {
		if err := checkName(n); err != nil {
			return fmt.Errorf("ensure graph %s: %w", g.Name, err)
		}
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		if err := ensureTable(ctx, tx, g.VertexCollection, kindDocument); err != nil {
			return err
		}
		if err := ensureTable(ctx, tx, g.EdgeCollection, kindEdge); err != nil {
			return err
		}
		var v, e string
		err := tx.QueryRowContext(ctx, `SELECT vertex_collection, edge_collection FROM _graphs WHERE name = ?`, g.Name).Scan(&v, &e)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_, err = tx.ExecContext(ctx, `INSERT INTO _graphs (name, vertex_collection, edge_collection) VALUES (?, ?, ?)`,
				g.Name, g.VertexCollection, g.EdgeCollection)
			return err
		case err != nil:
			return err
		case v != g.VertexCollection || e != g.EdgeCollection:
			return fmt.Errorf("the graph exists with vertex collection %s and edge collection %s", v, e)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("ensure graph %s: %w", g.Name, err)
	}
	s.remember(g.VertexCollection, kindDocument)
	s.remember(g.EdgeCollection, kindEdge)
	return nil
}

// ReadGraph calls vertex for each vertex, then edge for each edge of the
// named graph, each in _key order, from one snapshot of the file: edges
// written while it reads are not half seen. It returns an error wrapping
// store.ErrNotFound when there is no such graph, and a callback's error as it
// is.
func (s *Store) ReadGraph(ctx context.Context, name string, vertex, edge func(doc json.RawMessage) error) error {
	if err := checkName(name); err != nil {
		return fmt.Errorf("read graph: %w", err)
	}
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("read graph %s: %w", name, unavailable(err))
	}
	// Nothing was written: the rollback only ends the read.
	defer func() { _ = tx.Rollback() }()
	var v, e string
	err = tx.QueryRowContext(ctx, `SELECT vertex_collection, edge_collection FROM _graphs WHERE name = ?`, name).Scan(&v, &e)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("read graph %s: %w", name, store.ErrNotFound)
	case err != nil:
		return fmt.Errorf("read graph %s: %w", name, unavailable(err))
	}
	const q = `SELECT doc FROM %s ORDER BY _key`
	if err := s.scan(ctx, tx, v, q, vertex); err != nil {
		return callerErr(err, "read graph "+name+" vertices")
	}
	return callerErr(s.scan(ctx, tx, e, q, edge), "read graph "+name+" edges")
}

// DropGraph removes the named graph, its vertex and edge collections and
// everything in them, in one transaction: a reader sees the whole graph or
// none of it. A graph that does not exist is not an error.
func (s *Store) DropGraph(ctx context.Context, name string) error {
	if err := checkName(name); err != nil {
		return fmt.Errorf("drop graph: %w", err)
	}
	var dropped []string
	err := s.write(ctx, func(tx *sql.Tx) error {
		var v, e string
		err := tx.QueryRowContext(ctx, `SELECT vertex_collection, edge_collection FROM _graphs WHERE name = ?`, name).Scan(&v, &e)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return nil
		case err != nil:
			return err
		}
		for _, c := range []string{e, v} {
			if _, err := tx.ExecContext(ctx, `DROP TABLE IF EXISTS `+quote(c)); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM _collections WHERE name = ?`, c); err != nil {
				return err
			}
		}
		dropped = []string{v, e}
		_, err = tx.ExecContext(ctx, `DELETE FROM _graphs WHERE name = ?`, name)
		return err
	})
	if err != nil {
		return fmt.Errorf("drop graph %s: %w", name, unavailable(err))
	}
	s.mu.Lock()
	for _, c := range dropped {
		delete(s.kinds, c)
	}
	s.mu.Unlock()
	return nil
}
