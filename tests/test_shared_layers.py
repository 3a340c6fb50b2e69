"""A layer shared by several models has one set of weights (issue 11, row 3): training any of the
models changes what the others predict, report and save; optimizer state stays with the model
being trained. Every expectation is computed in numpy (float64) from the weights the models report."""
import threading

import numpy as np
import pytest
from reference import batch_norm, dense

import fitcore as fc

L = fc.layers
RNG = np.random.default_rng(11)


def _x(n=32, width=8):
    return RNG.normal(size=(n, width)).astype(np.float32)


def _autoencoder():
    inp = fc.Input((8,))
    enc = L.Dense(3, activation="relu", name="enc")
    code = enc(inp)
    encoder = fc.Model(inp, code)
    auto = fc.Model(inp, L.Dense(8, name="dec")(code))
    return encoder, auto


def _assert_weights_equal(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


def test_training_the_autoencoder_trains_the_encoder():
    encoder, auto = _autoencoder()
    auto.compile(fc.optimizers.Adam(0.05), "mse")
    x = _x()
    before = encoder.predict(x, verbose=0)
    auto.fit(x, x, epochs=5, batch_size=8, verbose=0)
    kernel, bias = auto.get_weights()[:2]
    _assert_weights_equal(encoder.get_weights(), [kernel, bias])
    after = encoder.predict(x, verbose=0)
    assert np.abs(after - before).max() > 1e-3  # the bug: the encoder still predicted `before`
    np.testing.assert_allclose(after, dense(x.astype(np.float64), kernel, bias, "relu"), rtol=1e-5, atol=1e-6)
    # and the autoencoder predicts with the same encoder weights
    k2, b2 = auto.get_weights()[2:]
    np.testing.assert_allclose(auto.predict(x, verbose=0), dense(dense(x, kernel, bias, "relu"), k2, b2),
                               rtol=1e-5, atol=1e-5)


def test_training_the_encoder_alone_changes_the_autoencoder_and_keeps_optimizer_state_apart():
    encoder, auto = _autoencoder()
    auto.compile(fc.optimizers.Adam(0.01), "mse")
    encoder.compile(fc.optimizers.Adam(0.01), "mse")
    x = _x()
    auto.fit(x, x, epochs=2, batch_size=8, verbose=0)
    encoder.fit(x, RNG.normal(size=(32, 3)).astype(np.float32), epochs=3, batch_size=8, verbose=0)
    assert auto.optimizer.iterations == 8 and encoder.optimizer.iterations == 12
    k, b, k2, b2 = auto.get_weights()
    _assert_weights_equal([k, b], encoder.get_weights())
    np.testing.assert_allclose(auto.predict(x, verbose=0), dense(dense(x, k, b, "relu"), k2, b2), rtol=1e-5, atol=1e-5)
    # Each optimizer's moments are its own model's: the autoencoder's cover 4 weights (padded), the
    # encoder's 2, and the encoder's training did not move the autoencoder's moments.
    auto_state = [np.array(v) for _, v in auto._core.optimizer_state()]
    auto.fit(x, x, epochs=1, batch_size=32, verbose=0)  # one more step works from its own state
    assert auto.optimizer.iterations == 9
    assert all(v.size > s.size for v, s in zip(auto_state, (np.array(v) for _, v in encoder._core.optimizer_state())))


def test_set_weights_on_the_inner_model_reaches_the_outer_one():
    encoder, auto = _autoencoder()
    x = _x()
    auto.predict(x, verbose=0)  # the autoencoder ran (and holds copies) before the change
    new = [RNG.normal(size=(8, 3)).astype(np.float32), RNG.normal(size=(3,)).astype(np.float32)]
    encoder.set_weights(new)
    _assert_weights_equal(auto.get_weights()[:2], new)
    k2, b2 = auto.get_weights()[2:]
    np.testing.assert_allclose(auto.predict(x, verbose=0), dense(dense(x, *new, "relu"), k2, b2), rtol=1e-5, atol=1e-5)


def test_save_and_load_of_each_model_after_training_the_other(tmp_path):
    encoder, auto = _autoencoder()
    auto.compile(fc.optimizers.SGD(0.1), "mse")
    x = _x()
    auto.fit(x, x, epochs=3, batch_size=8, verbose=0)
    encoder.save(tmp_path / "encoder.keras")
    auto.save(tmp_path / "auto.keras")
    loaded_encoder = fc.models.load_model(tmp_path / "encoder.keras")
    loaded_auto = fc.models.load_model(tmp_path / "auto.keras")
    np.testing.assert_array_equal(loaded_encoder.predict(x, verbose=0), encoder.predict(x, verbose=0))
    np.testing.assert_array_equal(loaded_auto.predict(x, verbose=0), auto.predict(x, verbose=0))
    _assert_weights_equal(loaded_encoder.get_weights(), auto.get_weights()[:2])


def test_two_sequentials_sharing_a_layer_with_batch_normalization():
    shared, norm = L.Dense(4, activation="tanh"), L.BatchNormalization()
    first = fc.Sequential([fc.Input((5,)), shared, norm, L.Dense(1)])
    second = fc.Sequential([fc.Input((5,)), shared, norm, L.Dense(2)])
    first.compile(fc.optimizers.SGD(0.05), "mse")
    second.compile(fc.optimizers.SGD(0.05), "mse")
    x = _x(40, 5)
    for model, width in ((first, 1), (second, 2), (first, 1)):
        model.fit(x, RNG.normal(size=(40, width)).astype(np.float32), epochs=2, batch_size=10, verbose=0)
        # the other model now computes with the weights (and moving statistics) this one left
        for m in (first, second):
            k, b, gamma, beta, k2, b2, mean, var = (m.layers[0].get_weights() + m.layers[1].get_weights()[:2]
                                                     + m.layers[2].get_weights() + m.layers[1].get_weights()[2:])
            h = batch_norm(dense(x.astype(np.float64), k, b, "tanh"), gamma, beta, mean=mean, variance=var)
            np.testing.assert_allclose(m.predict(x, verbose=0), dense(h, k2, b2), rtol=1e-4, atol=1e-5)
        assert not np.allclose(norm.get_weights()[2], 0.0)  # the moving mean moved


def test_gan_trained_in_turns_matches_the_same_training_by_hand():
    """The classic recipe: D compiled trainable, then frozen inside G+D; trained in turns with
    train_on_batch. Reference: the same SGD steps in float64 numpy."""
    lr, n = 0.05, 8
    g_layer = L.Dense(2, name="gen", kernel_initializer="glorot_uniform")
    d_layer = L.Dense(1, name="disc", kernel_initializer="glorot_uniform")
    z_in, x_in = fc.Input((3,)), fc.Input((2,))
    generator = fc.Model(z_in, g_layer(z_in))
    discriminator = fc.Model(x_in, d_layer(x_in))
    discriminator.compile(fc.optimizers.SGD(lr), "mse")
    d_layer.trainable = False
    gan = fc.Model(z_in, d_layer(g_layer(z_in)))
    gan.compile(fc.optimizers.SGD(lr), "mse")

    wg, bg = (w.astype(np.float64) for w in generator.get_weights())
    wd, bd = (w.astype(np.float64) for w in discriminator.get_weights())
    for turn in range(6):
        real = RNG.normal(2.0, 0.5, size=(n, 2)).astype(np.float32)
        z = RNG.normal(size=(n, 3)).astype(np.float32)
        fake = generator.predict(z, verbose=0)
        np.testing.assert_allclose(fake, z @ wg + bg, rtol=1e-4, atol=1e-5)
        # discriminator step on real (label 1) and fake (label 0)
        xb = np.concatenate([real, fake]).astype(np.float32)
        yb = np.concatenate([np.ones((n, 1)), np.zeros((n, 1))]).astype(np.float32)
        discriminator.train_on_batch(xb, yb)
        g = 2.0 * (xb @ wd + bd - yb) / (2 * n)
        wd, bd = wd - lr * xb.T @ g, bd - lr * g.sum(0)
        # generator step through the frozen discriminator (label 1)
        z = RNG.normal(size=(n, 3)).astype(np.float32)
        gan.train_on_batch(z, np.ones((n, 1), np.float32))
        g = 2.0 * ((z @ wg + bg) @ wd + bd - 1.0) / n
        gh = g @ wd.T
        wg, bg = wg - lr * z.T @ gh, bg - lr * gh.sum(0)

        for got, want in zip(discriminator.get_weights(), (wd, bd)):
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5, err_msg=f"turn {turn}")
        for got, want in zip(gan.get_weights(), (wg, bg, wd, bd)):
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5, err_msg=f"turn {turn}")
    z = RNG.normal(size=(n, 3)).astype(np.float32)
    np.testing.assert_allclose(gan.predict(z, verbose=0), (z @ wg + bg) @ wd + bd, rtol=1e-4, atol=1e-5)


def test_gan_discriminator_save_load_predicts_as_the_trained_one(tmp_path):
    g_layer, d_layer = L.Dense(4), L.Dense(1)
    z_in, x_in = fc.Input((3,)), fc.Input((4,))
    discriminator = fc.Model(x_in, d_layer(x_in))
    gan = fc.Model(z_in, d_layer(g_layer(z_in)))
    gan.compile(fc.optimizers.SGD(0.1), "mse")  # here D is trainable inside G+D too
    gan.fit(_x(32, 3), np.ones((32, 1), np.float32), epochs=3, batch_size=8, verbose=0)
    discriminator.save(tmp_path / "d.keras")
    x = _x(16, 4)
    np.testing.assert_array_equal(fc.models.load_model(tmp_path / "d.keras").predict(x, verbose=0),
                                  discriminator.predict(x, verbose=0))
    np.testing.assert_allclose(discriminator.predict(x, verbose=0), dense(x, *gan.get_weights()[2:]),
                               rtol=1e-5, atol=1e-6)


def test_two_models_sharing_a_layer_cannot_train_at_once():
    encoder, auto = _autoencoder()
    auto.compile("sgd", "mse")
    encoder.compile("sgd", "mse")
    x = _x()
    errors = []

    class TrainTheEncoderMeanwhile(fc.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            def run():
                try:
                    encoder.fit(x, x[:, :3], epochs=1, verbose=0)
                except RuntimeError as e:
                    errors.append(str(e))

            t = threading.Thread(target=run)
            t.start()
            t.join(60)

    auto.fit(x, x, epochs=1, verbose=0, callbacks=[TrainTheEncoderMeanwhile()])
    assert len(errors) == 1 and "enc/kernel" in errors[0] and "training now" in errors[0], errors
    encoder.fit(x, x[:, :3], epochs=1, verbose=0)  # once the autoencoder is done, it trains


def test_encoder_predicting_while_the_autoencoder_fits_sees_whole_steps():
    """Every prediction the encoder makes from another thread during the autoencoder's fit is
    computed from the kernel and bias of one finished step (never a kernel of one step with the
    bias of the next). The reader runs freely; at a few batches the fit also waits for one of its
    predictions, so some surely land mid-training whatever the scheduling."""
    encoder, auto = _autoencoder()
    auto.compile(fc.optimizers.SGD(0.2), "mse")
    x = _x(64)
    steps = [auto.get_weights()[:2]]
    done, asked, answered = threading.Event(), threading.Event(), threading.Event()
    seen = []

    def on_batch_end(batch, logs):
        steps.append(auto.get_weights()[:2])
        if batch in (1, 3):
            answered.clear()
            asked.set()
            assert answered.wait(60)

    def reader():
        while not done.is_set():
            requested = asked.is_set()  # a prediction started after the fit asked for one
            seen.append(encoder.predict(x, verbose=0))
            if requested:
                asked.clear()
                answered.set()

    t = threading.Thread(target=reader)
    t.start()
    try:
        auto.fit(x, x, epochs=40, batch_size=16, verbose=0,
                 callbacks=[fc.callbacks.LambdaCallback(on_train_batch_end=on_batch_end)])
    finally:
        done.set()
        t.join(60)
    candidates = [dense(x.astype(np.float64), k, b, "relu") for k, b in steps]
    assert len(seen) >= 2
    for got in seen:
        assert min(np.abs(got - c).max() for c in candidates) < 1e-5
    assert len({min(range(len(candidates)), key=lambda i: np.abs(got - candidates[i]).max()) for got in seen}) > 1
