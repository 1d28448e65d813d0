package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// DropCollection removes the collection's table, its indexes and its
// catalogue row in one transaction. A collection that does not exist is not
// an error; one that a graph uses is refused (drop the graph instead).
func (s *Store) DropCollection(ctx context.Context, name string) error {
	if err := checkName(name); err != nil {
		return fmt.Errorf("drop collection: %w", err)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		var k kind
		err := tx.QueryRowContext(ctx, `SELECT kind FROM _collections WHERE name = ?`, name).Scan(&k)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return nil
		case err != nil:
			return err
		}
		var graph string
		err = tx.QueryRowContext(ctx, `SELECT name FROM _graphs WHERE vertex_collection = ? OR edge_collection = ?`, name, name).Scan(&graph)
		switch {
		case err == nil:
			return fmt.Errorf("%s belongs to graph %s: drop the graph", name, graph)
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		// Dropping the table drops its indexes too.
		if _, err := tx.ExecContext(ctx, `DROP TABLE IF EXISTS `+quote(name)); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM _collections WHERE name = ?`, name)
		return err
	})
	if err != nil {
		return fmt.Errorf("drop collection %s: %w", name, unavailable(err))
	}
	s.mu.Lock()
	delete(s.kinds, name)
	s.mu.Unlock()
	return nil
}
