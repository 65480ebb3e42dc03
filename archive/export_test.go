package archive

// NoteWriteError exposes the guard's write-error hook to tests.
func NoteWriteError(s *Store, err error) error { return s.space.noteErr(err) }

// PackWakes returns how many times the packer was asked for a pass
// outside its ticker.
func PackWakes(s *Store) int64 { return s.packer.wakes.Load() }
