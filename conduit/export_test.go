package conduit

// TagReadWaiters returns how many requests joined the read of the tag
// list under way, 0 when none is.
func (s *Service) TagReadWaiters() int {
	s.tags.mu.Lock()
	defer s.tags.mu.Unlock()
	if s.tags.reading == nil {
		return 0
	}
	return s.tags.reading.waiters
}
