package archive

// NoteWriteError exposes the guard's write-error hook to tests.
func NoteWriteError(s *Store, err error) error { return s.space.noteErr(err) }
