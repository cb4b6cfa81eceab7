"""The payments service's use cases: one public function per use case, the actor first."""
