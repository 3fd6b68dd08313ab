"""InstructIR Explorer: see how retrievers follow the instruction that comes with a query."""
from demo.settings import apply_offline_defaults

apply_offline_defaults()
