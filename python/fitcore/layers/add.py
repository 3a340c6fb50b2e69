from fitcore.layers.merging import Merge, _shown


class Add(Merge):
    """The elementwise sum of any number of inputs of one shape."""

    kind = "add"

    def _merged_shape(self, shapes):
        if any(s != shapes[0] for s in shapes):
            raise ValueError(f"{self.name}: Add needs inputs of one shape, got "
                             f"{', '.join(_shown(s) for s in shapes)}")
        return shapes[0]
