"""The assembled model: a frozen backbone, the conditioners attached to it and the generative head that turns
its states into music. Training and generation both work on this object."""
